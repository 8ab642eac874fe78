import FPGACluster
import FPGADrivers
import FPGATestSupport
import Testing

@Suite("decompression: parallel, sequential, corrupt input")
struct DecompressTests {
    let data = TestData.logLines(count: 50_000)

    func ours() async throws -> [UInt8] {
        let cluster = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: 8192))
        return try await cluster.compress(data)
    }

    var cluster: Cluster { get throws { try Cluster(devices: .simulated(count: 1)) } }

    @Test func parallelEqualsSequential() async throws {
        let gz = try await ours()
        // Our file takes the indexed, parallel path; gzip's own output takes the
        // sequential one; both must give the input, as zlib and gzip do.
        let foreign = try await ExternalTools.run(["gzip", "-c", "-1"], input: data).output
        #expect(try await GzipIndex.build(foreign) == nil)
        #expect(try await cluster.decompress(gz) == data)
        #expect(try await cluster.decompress(foreign) == data)

        let sequential = GzipStreamInflater()
        var output: [UInt8] = []
        try gz.withUnsafeBytes { try sequential.feed($0) { output.append(contentsOf: $0) } }
        try sequential.finish()
        #expect(output == data)
        #expect(sequential.members == 7)
    }

    @Test func mixedFileIsReadSequentially() async throws {
        let foreign = try await ExternalTools.run(["gzip", "-c"], input: Array("first part\n".utf8)).output
        let gz = try await ours()
        let mixed = foreign + gz
        #expect(try await GzipIndex.build(mixed) == nil)
        #expect(try await cluster.decompress(mixed) == Array("first part\n".utf8) + data)
        #expect(try await cluster.decompress(gz + foreign) == data + Array("first part\n".utf8))
    }

    @Test func indexReadsBack() async throws {
        let gz = try await ours()
        let index = try #require(try await GzipIndex.build(gz))
        #expect(index.members.count == 7)
        #expect(index.members.first?.offset == 0)
        var offset = 0
        for member in index.members {
            #expect(member.offset == offset)
            #expect(member.header.length == GzipMember.headerSize)
            offset += member.size
        }
        #expect(offset == gz.count)
        #expect(index.uncompressedSize == data.count)
    }

    @Test func zeroPaddingAfterTheLastMemberIsIgnored() async throws {
        let gz = try await ours()
        #expect(try await cluster.decompress(gz + [0, 0, 0, 0]) == data)
        let foreign = try await ExternalTools.run(["gzip", "-c"], input: data).output
        #expect(try await cluster.decompress(foreign + [0, 0]) == data)
    }

    @Test func corruptCRCIsRejected() async throws {
        var gz = try await ours()
        let index = try #require(try await GzipIndex.build(gz))
        let second = index.members[1]
        gz[second.offset + second.size - 8] ^= 0x01
        await #expect(throws: GzipError.crcMismatch(member: 1, offset: second.offset)) {
            try await cluster.decompress(gz)
        }
    }

    @Test func wrongLengthIsRejected() async throws {
        var gz = try await ours()
        let index = try #require(try await GzipIndex.build(gz))
        let third = index.members[2]
        gz[third.offset + third.size - 4] ^= 0x01
        await #expect(throws: GzipError.lengthMismatch(member: 2, offset: third.offset)) {
            try await cluster.decompress(gz)
        }
    }

    @Test func corruptDeflateDataIsRejected() async throws {
        var gz = try await ours()
        let index = try #require(try await GzipIndex.build(gz))
        let member = index.members[3]
        for position in (member.offset + 30)..<(member.offset + 60) { gz[position] = 0xff }
        await #expect(throws: GzipError.self) { try await cluster.decompress(gz) }
    }

    @Test func truncatedFileIsRejected() async throws {
        let gz = try await ours()
        await #expect(throws: GzipError.truncated(offset: gz.count - 1)) {
            try await cluster.decompress(Array(gz.dropLast()))
        }
        let foreign = try await ExternalTools.run(["gzip", "-c"], input: data).output
        await #expect(throws: GzipError.truncated(offset: foreign.count - 3)) {
            try await cluster.decompress(Array(foreign.dropLast(3)))
        }
        await #expect(throws: GzipError.truncated(offset: 0)) { try await cluster.decompress([]) }
    }

    @Test func badHeaderIsRejected() async throws {
        var gz = try await ours()
        gz[0] = 0x1e
        await #expect(throws: GzipError.notGzip(offset: 0)) { try await cluster.decompress(gz) }
        gz[0] = 0x1f
        gz[2] = 7
        await #expect(throws: GzipError.unsupportedMethod(7, offset: 0)) { try await cluster.decompress(gz) }
        gz[2] = 8
        gz[3] |= 0x80
        await #expect(throws: GzipError.badHeader("reserved flag bits are set", offset: 0)) {
            try await cluster.decompress(gz)
        }
        await #expect(throws: GzipError.notGzip(offset: 0)) {
            try await cluster.decompress(Array("plain text, not gzip".utf8))
        }
    }

    @Test func trailingGarbageIsRejected() async throws {
        let gz = try await ours()
        await #expect(throws: GzipError.trailingGarbage(offset: gz.count)) {
            try await cluster.decompress(gz + Array("garbage".utf8))
        }
        let foreign = try await ExternalTools.run(["gzip", "-c"], input: data).output
        await #expect(throws: GzipError.trailingGarbage(offset: foreign.count)) {
            try await cluster.decompress(foreign + Array("garbage".utf8))
        }
    }
}
