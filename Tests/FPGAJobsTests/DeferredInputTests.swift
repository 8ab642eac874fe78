import FPGADevice
import FPGAJobs
import FPGATestSupport
import FPGATestSync
import MetricsTestKit
import Testing

/// Inputs whose bytes are read when a driver has room for them: a local node hands them
/// to a ``DeferredInputDriver`` (gzip) to read straight into its device buffer, and loads
/// them for any other driver; either way the output and the counted bytes are those of
/// the same bytes run from memory.
@Suite("deferred inputs on a local node", .timeLimit(stuckTestLimit))
struct DeferredInputTests {
    static let job = GzipCompressionJob(chunkSize: 1 << 16)

    /// Bytes that count their reads and loads, like a file's chunk does.
    static func counted(_ bytes: [UInt8]) -> (DeferredBytes, reads: Watched<Int>, loads: Watched<Int>) {
        let reads = Watched(0)
        let loads = Watched(0)
        let deferred = DeferredBytes(
            count: bytes.count,
            read: { buffer in
                reads.update { $0 += 1 }
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            },
            load: {
                loads.update { $0 += 1 }
                return bytes[...]
            })
        return (deferred, reads, loads)
    }

    /// What zlib, the reference, inflates from `gzip`.
    static func gunzip(_ gzip: ArraySlice<UInt8>) throws -> [UInt8] {
        let inflater = ZlibStreamInflater()
        var output: [UInt8] = []
        try Array(gzip).withUnsafeBytes { try inflater.feed($0) { output.append(contentsOf: $0) } }
        try inflater.finish()
        return output
    }

    @Test func bytesInMemoryReadAndLoadAsThemselves() async throws {
        let bytes = TestData.logLines(count: 200, seed: 4)
        let deferred = DeferredBytes(bytes[...])
        #expect(deferred.count == bytes.count)
        #expect(try await deferred.load() == bytes[...])
        var buffer = [UInt8](repeating: 0xEE, count: bytes.count + 3)
        try buffer.withUnsafeMutableBytes { try deferred.read(into: $0) }
        #expect(buffer[..<bytes.count] == bytes[...])
        #expect(buffer[bytes.count...] == [0xEE, 0xEE, 0xEE])
    }

    @Test func gzipReadsStraightIntoItsBufferAndMakesTheSameMember() async throws {
        let metrics = TestMetrics()
        let node = LocalNode(
            device: SimulatedDevice(name: "def0", kernels: ProgramLibrary.builtInKernels), programs: .builtIn,
            metrics: metrics)
        var total = 0
        for count in [0, 1, 5000, 1 << 16] {
            let bytes = TestData.logLines(count: count, seed: UInt64(count)).prefix(count)
            try #require(bytes.count == count)
            total += count
            let (deferred, reads, loads) = Self.counted(Array(bytes))
            let member = try await node.run(Self.job, deferred: deferred)
            #expect(member == (try await node.run(Self.job, ArraySlice(bytes))), "chunk of \(count) bytes")
            // An empty chunk has nothing to read.
            #expect(reads.value == (count > 0 ? 1 : 0))
            #expect(loads.value == 0, "the gzip driver loaded the bytes instead of reading them into its buffer")
            #expect(try Self.gunzip(member) == Array(bytes))
        }
        let dimensions = [("device", "def0"), ("kind", "simulated"), ("program", "gzip")]
        #expect(try metrics.expectCounter("fpgacluster_device_runs_completed_total", dimensions).totalValue == 8)
        #expect(
            try metrics.expectCounter("fpgacluster_device_input_bytes_total", dimensions).totalValue
                == 2 * Int64(total))
    }

    @Test func aDriverThatCannotReadThemGetsThemLoaded() async throws {
        let node = LocalNode(device: SimulatedDevice(name: "def1", kernels: []), programs: .builtIn)
        let bytes = TestData.logLines(count: 300, seed: 9)
        let (deferred, reads, loads) = Self.counted(bytes)
        #expect(try await node.run(EchoJob(), deferred: deferred) == bytes[...])
        #expect(reads.value == 0)
        #expect(loads.value == 1)
    }

    @Test func aFailedReadFailsTheRunAndFreesTheSlot() async throws {
        struct Gone: Error {}
        let node = LocalNode(
            device: SimulatedDevice(name: "def2", kernels: ProgramLibrary.builtInKernels), programs: .builtIn)
        let failing = DeferredBytes(count: 100, read: { _ in throw Gone() }, load: { throw Gone() })
        // More failures than the driver has slots: each gives its slot back.
        for _ in 0..<10 {
            await #expect(throws: Gone.self) { try await node.run(Self.job, deferred: failing) }
        }
        let bytes = TestData.logLines(count: 50, seed: 2)
        let member = try await node.run(Self.job, deferred: DeferredBytes(bytes[...]))
        #expect(try Self.gunzip(member) == bytes)
    }
}
