import FPGADevice
import FPGADrivers
import FPGAKernels
import FPGATestSupport
import Testing

@Suite("GzipMemberInflater: whole members and slices")
struct GzipMemberInflaterTests {
    /// An indexed member of `data`, as the gzip driver writes it, and its parsed header.
    func member(of data: [UInt8]) async throws -> (bytes: [UInt8], header: GzipHeader) {
        let device = SimulatedDevice(name: "sim", kernels: [GzipCompBlockKernel()])
        try await device.loadXclbin(.gzipCompression(computeUnits: 1))
        let driver = try await GzipDriver(device: device, maxChunkSize: 1 << 20)
        let bytes = try await driver.compressMember(data[...])
        guard case .header(let header) = try bytes.withUnsafeBytes({ try GzipHeader.parse($0, offset: 0) }) else {
            Issue.record("the member's header did not parse")
            throw GzipError.notGzip(offset: 0)
        }
        return (bytes, header)
    }

    /// Inflates `bytes` in slices of `sliceSize`, collecting what is delivered, and checks
    /// that each slice comes at the offset where the one before ended; returns the bytes
    /// and the number of slices.
    func slices(of bytes: [UInt8], header: GzipHeader, sliceSize: Int) throws -> (output: [UInt8], slices: Int) {
        var output: [UInt8] = []
        var slices = 0
        let slice = UnsafeMutableRawBufferPointer.allocate(byteCount: sliceSize, alignment: 64)
        defer { slice.deallocate() }
        let count = try bytes.withUnsafeBytes { raw in
            try GzipMemberInflater.inflate(raw, header: header, number: 3, offset: 100, slicesOf: slice) {
                delivered, at in
                #expect(delivered.count <= sliceSize)
                #expect(at == output.count, "a slice at \(at) after \(output.count) bytes")
                slices += 1
                output.append(contentsOf: delivered)
            }
        }
        #expect(count == output.count)
        return (output, slices)
    }

    /// Any slice size, from one byte to more than the member, gives the member's bytes,
    /// each slice at the offset where the one before ended, and the whole-member call agrees.
    @Test func slicesOfAnySizeGiveTheMember() async throws {
        let data = TestData.logLines(count: 3_000) + TestData.random(count: 70_000, seed: 5)
        let (bytes, header) = try await member(of: data)
        for sliceSize in [1, 7, 4096, 65_536, data.count, data.count + 1, 1 << 20] {
            let (output, count) = try slices(of: bytes, header: header, sliceSize: sliceSize)
            #expect(output == data, "slices of \(sliceSize) bytes")
            #expect(count >= (data.count + sliceSize - 1) / sliceSize, "slices of \(sliceSize) bytes")
        }
        var whole = [UInt8](repeating: 0, count: data.count + 1)
        let count = try bytes.withUnsafeBytes { raw in
            try whole.withUnsafeMutableBytes { out in
                try GzipMemberInflater.inflate(raw, header: header, number: 0, offset: 0, into: out)
            }
        }
        #expect(count == data.count && Array(whole[0..<count]) == data)
    }

    /// Damage found in slices is the whole-member call's typed error: a wrong CRC-32, an
    /// ISIZE that disagrees with the index, a member cut short.
    @Test func damageInSlicesIsTyped() async throws {
        let data = TestData.logLines(count: 4_000)
        let (bytes, header) = try await member(of: data)
        var badCRC = bytes
        badCRC[bytes.count - 8] ^= 0x01
        #expect(throws: GzipError.crcMismatch(member: 3, offset: 100)) {
            _ = try slices(of: badCRC, header: header, sliceSize: 4096)
        }
        var badSize = bytes
        badSize[bytes.count - 4] ^= 0x01
        #expect(throws: GzipError.lengthMismatch(member: 3, offset: 100)) {
            _ = try slices(of: badSize, header: header, sliceSize: 4096)
        }
        // The index says the member is longer than the bytes given.
        let cut = Array(bytes.prefix(bytes.count - 20))
        #expect(throws: GzipError.truncated(offset: 100 + cut.count)) {
            _ = try slices(of: cut, header: header, sliceSize: 4096)
        }
    }

    /// A member whose deflate stream is zeros from its middle on (its index and trailer
    /// kept) is a typed error, not a short success or a loop that never ends.
    @Test func aStreamZeroedHalfWayIsAnError() async throws {
        let data = TestData.logLines(count: 4_000)
        let (bytes, header) = try await member(of: data)
        let index = try #require(header.index)
        // The bytes keep their count, so the index still matches, but the stream no
        // longer reaches its final block.
        var damaged = bytes
        let bodyEnd = bytes.count - 8
        let start = header.length + (bodyEnd - header.length) / 2
        for position in start..<bodyEnd { damaged[position] = 0 }
        #expect(index.memberSize == damaged.count)
        #expect(throws: GzipError.self) { _ = try slices(of: damaged, header: header, sliceSize: 4096) }
    }

    /// An error thrown by the receiver of a slice stops the inflating at once and is the
    /// call's error.
    @Test func aFailingReceiverStopsTheInflating() async throws {
        struct Refused: Error, Equatable {}
        let data = TestData.logLines(count: 4_000)
        let (bytes, header) = try await member(of: data)
        var delivered = 0
        let slice = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 64)
        defer { slice.deallocate() }
        #expect(throws: Refused()) {
            try bytes.withUnsafeBytes { raw in
                _ = try GzipMemberInflater.inflate(raw, header: header, number: 0, offset: 0, slicesOf: slice) {
                    _, _ in
                    delivered += 1
                    if delivered == 3 { throw Refused() }
                }
            }
        }
        #expect(delivered == 3)
    }
}
