import CZlib
import FPGADrivers
import FPGATestSupport
import Testing

/// What a chain made of `file` from `start`: the chain and its output bytes.
private func chain(
    of file: [UInt8], from start: Int, until limit: Int? = nil, outputSize: Int = 4 << 20,
    softLimit: Int = .max, bufferSize: Int = 4096
) throws -> (chain: GzipMemberChain, output: [UInt8])? {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 8)
    defer { buffer.deallocate() }
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: outputSize, alignment: 8)
    defer { output.deallocate() }
    func read(_ offset: Int, _ into: UnsafeMutableRawBufferPointer) -> Int {
        let count = max(0, min(into.count, file.count - offset))
        file.withUnsafeBytes { into.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        return count
    }
    // The buffer starts out holding the file from `start`, as a segment's scan does.
    let held = read(start, buffer)
    guard
        let found = try GzipMemberChain.inflate(
            from: start, until: limit ?? file.count, fileSize: file.count, buffer: buffer, holding: held, from: start,
            read: read, into: output, softLimit: softLimit)
    else { return nil }
    return (found, Array(output[0..<found.outputCount]))
}

@Suite("gzip member chains: finding and inflating members without an index")
struct GzipMemberChainTests {
    let parts: [[UInt8]] = [
        TestData.logLines(count: 40_000, seed: 1), TestData.random(count: 30_000), TestData.logLines(count: 5, seed: 2),
        TestData.repetitive(count: 200_000), [],
    ]
    var members: [[UInt8]] { parts.enumerated().map { ZlibGzip.member($1, level: Int32(1 + $0 * 2)) } }
    var file: [UInt8] { members.flatMap { $0 } }
    var starts: [Int] { members.reduce(into: [0]) { $0.append($0.last! + $1.count) } }

    @Test func aChainFromTheFirstMemberInflatesThemAll() throws {
        let (found, output) = try #require(try chain(of: file, from: 0))
        #expect(found.starts == starts)
        #expect(found.members == parts.count)
        #expect(found.end == file.count)
        #expect(output == parts.flatMap { $0 })
        #expect(found.outputOffsets == parts.reduce(into: [0]) { $0.append($0.last! + $1.count) })
        for (number, start) in starts.dropLast().enumerated() { #expect(found.member(startingAt: start) == number) }
        #expect(found.member(startingAt: 1) == nil)
        #expect(found.member(startingAt: file.count) == nil)
    }

    @Test func aChainStopsBeforeTheFirstMemberAtOrPastItsLimit() throws {
        let (found, output) = try #require(try chain(of: file, from: starts[1], until: starts[2] + 1))
        #expect(found.starts == Array(starts[1...3]))
        #expect(output == parts[1] + parts[2])
        // Exactly at a member start: that member is the next chain's.
        let exact = try #require(try chain(of: file, from: starts[1], until: starts[2]))
        #expect(exact.chain.starts == [starts[1], starts[2]])
    }

    @Test func aChainTakesNoMemberAfterItsSoftLimit() throws {
        let (found, _) = try #require(try chain(of: file, from: 0, softLimit: parts[0].count))
        #expect(found.members == 1)
        #expect(found.end == starts[1])
    }

    /// A member too large for the output is left for the sequential path, whole.
    @Test func aMemberTooLargeForTheOutputEndsTheChainBeforeIt() throws {
        #expect(try chain(of: file, from: starts[3], outputSize: parts[3].count - 1) == nil)
        // Exactly the room it needs: it fits (the empty member after it, with no room left, does not).
        #expect(
            try chain(of: file, from: starts[3], outputSize: parts[3].count)?.chain.starts == [starts[3], starts[4]])
        let (found, _) = try #require(try chain(of: file, from: 0, outputSize: parts[0].count + parts[1].count + 100))
        #expect(found.starts == Array(starts[0...3]))
    }

    @Test func aPositionThatIsNotAMemberStartMakesNoChain() throws {
        #expect(try chain(of: file, from: 1) == nil)
        #expect(try chain(of: file, from: starts[1] + 20) == nil)
    }

    /// What follows a member that is not another whole member is the sequential path's
    /// to judge (zero padding is accepted, garbage and damage are errors): the chain
    /// ends before it.
    @Test func aChainEndsBeforePaddingGarbageDamageAndACutMember() throws {
        for tail: [UInt8] in [[0, 0, 0], Array("garbage".utf8), [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff]] {
            let (found, _) = try #require(try chain(of: members[0] + tail, from: 0))
            #expect(found.starts == [0, members[0].count])
        }
        var damaged = file
        damaged[starts[2] + 12] ^= 0xff
        let (found, _) = try #require(try chain(of: damaged, from: 0))
        #expect(found.end == starts[2])
        let (cut, _) = try #require(try chain(of: Array(file[0..<(starts[2] - 3)]), from: 0))
        #expect(cut.end == starts[1])
        #expect(try chain(of: Array(file[0..<(starts[1] - 3)]), from: 0) == nil)
    }

    @Test func candidatesAreTheHeadersOfEveryMember() throws {
        file.withUnsafeBytes { raw in
            var found: [Int] = []
            var from = 0
            while let next = GzipMemberChain.nextCandidate(in: raw, from: from) {
                found.append(next)
                from = next + 1
            }
            // Members hold no false candidate here (their data is text, random and zeros).
            #expect(found == Array(starts.dropLast()))
        }
    }

    @Test func aCandidateNeedsAPlausibleHeader() {
        let good: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        var bad: [[UInt8]] = []
        for (index, value) in [(2, 7), (3, 0x20), (8, 1), (9, 14)] as [(Int, UInt8)] {
            var header = good
            header[index] = value
            bad.append(header)
        }
        for header in bad {
            header.withUnsafeBytes { #expect(GzipMemberChain.nextCandidate(in: $0, from: 0) == nil) }
        }
        // Unknown OS, the best compression, a header cut short.
        var unknown = good
        unknown[9] = 255
        unknown[8] = 2
        unknown.withUnsafeBytes { #expect(GzipMemberChain.nextCandidate(in: $0, from: 0) == 0) }
        Array(good[0..<9]).withUnsafeBytes { #expect(GzipMemberChain.nextCandidate(in: $0, from: 0) == nil) }
        ([0x1f, 0x1f] + good).withUnsafeBytes { #expect(GzipMemberChain.nextCandidate(in: $0, from: 0) == 2) }
    }

    /// A gzip file stored (level 0) inside a member puts a real header at a position
    /// that is not a member start, with a valid member after it: a chain from there is
    /// well formed, and only a caller that reached that offset by inflating may use it.
    @Test func aStoredGzipFileInsideAMemberIsACandidateButNotAStart() throws {
        let inner = ZlibGzip.member(TestData.logLines(count: 2_000, seed: 3))
        let outer = ZlibGzip.member(Array("before".utf8) + inner + Array("after".utf8), level: 0)
        let position = try #require(
            outer.withUnsafeBytes { GzipMemberChain.nextCandidate(in: $0, from: 1) })
        let (found, output) = try #require(try chain(of: outer, from: position))
        #expect(found.members == 1)
        #expect(output == TestData.logLines(count: 2_000, seed: 3))
        let (whole, wholeOutput) = try #require(try chain(of: outer, from: 0))
        #expect(whole.starts == [0, outer.count])
        #expect(whole.member(startingAt: position) == nil)
        #expect(wholeOutput == Array("before".utf8) + inner + Array("after".utf8))
    }
}
