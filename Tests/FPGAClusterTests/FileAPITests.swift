import FPGACluster
import FPGADevice
import FPGADrivers
import FPGATestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

@Suite("file API: streaming, atomic output, failures")
struct FileAPITests {
    @Test func fileRoundTrip() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 300_000)
        try folder.write("input.log", data)
        let cluster = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: 16384))
        let progress = ProgressLog()
        let report = try await cluster.compressFile(
            at: folder.file("input.log"), to: folder.file("input.log.gz")
        ) { progress.record($0) }
        #expect(report.bytesIn == data.count)
        #expect(report.chunks == 19)
        #expect(report.chunksPerNode.values.reduce(0, +) == 19)
        #expect(progress.all.last?.bytesDone == data.count)
        #expect(progress.all.last?.fraction == 1)
        #expect(try folder.contents() == ["input.log", "input.log.gz"])

        let gz = try folder.read("input.log.gz")
        #expect(report.bytesOut == gz.count)
        #expect(try await ExternalTools.gzipDecompress(gz) == data)

        let back = try await cluster.decompressFile(at: folder.file("input.log.gz"), to: folder.file("back.log"))
        #expect(back.bytesOut == data.count)
        #expect(try folder.read("back.log") == data)
        #expect(try folder.contents() == ["back.log", "input.log", "input.log.gz"])
    }

    /// A cluster without devices does the host's work (decompression, in memory and of
    /// files) and turns jobs for devices away with a typed error, writing nothing.
    @Test func aHostOnlyClusterDecompressesAndTurnsDeviceJobsAway() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 100_000)
        try folder.write("input.log", data)
        let devices = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: 16384))
        _ = try await devices.compressFile(at: folder.file("input.log"), to: folder.file("input.log.gz"))

        let host = try Cluster.hostOnly(configuration: .init(chunkSize: 16384))
        #expect(host.nodes.isEmpty)
        #expect(await host.status().isEmpty)
        let back = try await host.decompressFile(at: folder.file("input.log.gz"), to: folder.file("back.log"))
        #expect(back.bytesOut == data.count && back.chunksPerNode.isEmpty)
        #expect(try folder.read("back.log") == data)
        #expect(try await host.decompress(try folder.read("input.log.gz")) == data)

        await #expect(throws: ClusterError.noDevices) { try await host.compress(data) }
        await #expect(throws: ClusterError.noDevices) { try await host.compress([]) }
        await #expect(throws: ClusterError.noDevices) {
            try await host.compressFile(at: folder.file("input.log"), to: folder.file("again.gz"))
        }
        await #expect(throws: ClassificationError.self) { try await host.classify(ClassifyTestData.images(2)) }
        #expect(try folder.contents() == ["back.log", "input.log", "input.log.gz"])
        // An empty list of devices is still a mistake, not a host-only cluster.
        #expect(throws: ClusterError.noDevices) { try Cluster(devices: []) }
    }

    /// The parallel path reuses its read and inflate buffers from member to member: a
    /// short member after a long one, or incompressible bytes after zeros, must come out
    /// with nothing of the member that used the buffer before.
    @Test func reusedBuffersCarryNothingBetweenMembers() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        // Chunks of 4 KiB: random, zeros, text, random..., and a last one of 5 bytes.
        var data: [UInt8] = []
        for part in 0..<24 {
            switch part % 3 {
            case 0: data += TestData.random(count: 4096, seed: UInt64(part + 1))
            case 1: data += [UInt8](repeating: 0, count: 4096)
            default: data += TestData.logLines(count: 4096, seed: UInt64(part))
            }
        }
        data += Array("tail\n".utf8)
        #expect(data.count == 24 * 4096 + 5)
        try folder.write("mixed", data)
        let cluster = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: 4096))
        try await cluster.compressFile(at: folder.file("mixed"), to: folder.file("mixed.gz"))
        let gz = try folder.read("mixed.gz")
        let index = try #require(try await GzipIndex.build(gz))
        #expect(index.members.count == 25)
        #expect(Set(index.members.map(\.size)).count > 2)

        let report = try await cluster.decompressFile(at: folder.file("mixed.gz"), to: folder.file("back"))
        #expect(report.chunks == 25)
        #expect(report.bytesIn == gz.count)
        #expect(report.bytesOut == data.count)
        #expect(try folder.read("back") == data)
    }

    /// An empty file compresses to one empty member, which decompresses (written in place,
    /// zero bytes at offset 0) to an empty file.
    @Test func anEmptyFileRoundTrips() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("empty", [])
        let cluster = try Cluster(devices: .simulated(count: 2))
        let report = try await cluster.compressFile(at: folder.file("empty"), to: folder.file("empty.gz"))
        #expect(report.bytesIn == 0 && report.chunks == 1)
        #expect(try await ExternalTools.gzipDecompress(try folder.read("empty.gz")) == [])
        let back = try await cluster.decompressFile(at: folder.file("empty.gz"), to: folder.file("back"))
        #expect(back.bytesOut == 0 && back.chunks == 1)
        #expect(try folder.read("back") == [])
        #expect(try folder.contents() == ["back", "empty", "empty.gz"])
    }

    @Test func foreignGzipFileDecompressesSequentially() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 3 << 20)
        try folder.write("plain.gz", try await ExternalTools.run(["gzip", "-c"], input: data).output)
        let cluster = try Cluster(devices: .simulated(count: 1))
        let report = try await cluster.decompressFile(at: folder.file("plain.gz"), to: folder.file("plain"))
        #expect(report.chunks == 1)
        #expect(try folder.read("plain") == data)
    }

    /// Concatenated foreign members, stored and coded blocks, zero padding: more input
    /// and output than one of the sequential path's reused buffers holds, and more than
    /// one segment, so member chains find the second member (see DecompressChainTests).
    @Test func foreignMultiMemberFileDecompresses() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = TestData.random(count: 700_000)
        let second = TestData.logLines(count: 2 << 20)
        let a = try await ExternalTools.run(["gzip", "-1", "-c"], input: first).output
        let b = try await ExternalTools.run(["gzip", "-9", "-c"], input: second).output
        try folder.write("two.gz", a + b + [0, 0, 0])
        let cluster = try Cluster(devices: .simulated(count: 1))
        let report = try await cluster.decompressFile(at: folder.file("two.gz"), to: folder.file("two"))
        #expect(report.chunks == 2)
        #expect(report.bytesOut == first.count + second.count)
        let same = try folder.read("two") == first + second
        #expect(same)
    }

    @Test func existingOutputIsKeptUnlessOverwriting() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("a", Array("new".utf8))
        try folder.write("a.gz", Array("precious".utf8))
        let cluster = try Cluster(devices: .simulated(count: 1))
        await #expect(throws: FileJobError.outputExists(folder.file("a.gz"))) {
            try await cluster.compressFile(at: folder.file("a"), to: folder.file("a.gz"))
        }
        #expect(try folder.read("a.gz") == Array("precious".utf8))
        try await cluster.compressFile(at: folder.file("a"), to: folder.file("a.gz"), overwrite: true)
        #expect(try await ExternalTools.gzipDecompress(try folder.read("a.gz")) == Array("new".utf8))
        #expect(try folder.contents() == ["a", "a.gz"])
    }

    @Test func badPathsAreClearErrors() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let cluster = try Cluster(devices: .simulated(count: 1))
        await #expect(throws: FileJobError.inputNotFound(folder.file("missing"))) {
            try await cluster.compressFile(at: folder.file("missing"), to: folder.file("out.gz"))
        }
        await #expect(throws: FileJobError.inputIsDirectory(folder.path)) {
            try await cluster.compressFile(at: folder.path, to: folder.file("out.gz"))
        }
        try folder.write("same", [1, 2, 3])
        await #expect(throws: FileJobError.sameFile(folder.file("same"))) {
            try await cluster.compressFile(at: folder.file("same"), to: folder.file("same"), overwrite: true)
        }
        await #expect(throws: FileJobError.self) {
            try await cluster.compressFile(at: folder.file("same"), to: folder.file("no/such/dir/out.gz"))
        }
        #expect(try folder.contents() == ["same"])
    }

    @Test func deviceFailureHalfWayLeavesNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("input", TestData.logLines(count: 64 * 4096))
        let cluster = try Cluster(
            devices: [SimulatedDevice.faulty(name: "bad", failingRun: 20)],
            configuration: .init(chunkSize: 4096))
        await #expect(throws: DeviceError.self) {
            try await cluster.compressFile(at: folder.file("input"), to: folder.file("input.gz"))
        }
        #expect(try folder.contents() == ["input"])
    }

    @Test func anInputThatShrinksHalfWayIsAnErrorAndLeavesNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let input = folder.file("input")
        try folder.write("input", TestData.logLines(count: 256 * 4096))
        let cluster = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: 4096))
        // Chunks are read when a lane has room for them. When the first member is written,
        // at most the pipeline's window of chunks has been taken, so emptying the file then
        // leaves most of them to find it short.
        let emptied = Mutex(false)
        let error = await #expect(throws: FileJobError.self) {
            try await cluster.compressFile(at: input, to: folder.file("input.gz")) { _ in
                emptied.withLock { done in
                    if !done { done = truncate(input, 0) == 0 }
                }
            }
        }
        guard case .inputShrank(let path, let expected, let found)? = error else {
            Issue.record("expected inputShrank, got \(String(describing: error))")
            return
        }
        #expect(path == input)
        #expect(expected == 256 * 4096)
        #expect(found % 4096 == 0 && found < expected)
        #expect(try folder.contents() == ["input"])
    }

    @Test func corruptInputToDecompressLeavesNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 100_000)
        let cluster = try Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: 8192))
        var gz = try await cluster.compress(data)
        gz[gz.count - 100] ^= 0x55
        try folder.write("bad.gz", gz)
        await #expect(throws: GzipError.self) {
            try await cluster.decompressFile(at: folder.file("bad.gz"), to: folder.file("bad"))
        }
        let foreign = try await ExternalTools.run(["gzip", "-c"], input: data).output
        try folder.write("cut.gz", Array(foreign.prefix(foreign.count / 2)))
        await #expect(throws: GzipError.truncated(offset: foreign.count / 2)) {
            try await cluster.decompressFile(at: folder.file("cut.gz"), to: folder.file("cut"))
        }
        #expect(try folder.contents() == ["bad.gz", "cut.gz"])
    }

    @Test func cancellationHalfWayLeavesNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("input", TestData.logLines(count: 64 * 4096))
        let slow = TimingModel(latency: .milliseconds(2), unitsPerSecond: 20e6)
        let cluster = try Cluster(devices: .simulated(count: 1, timing: slow), configuration: .init(chunkSize: 4096))
        let holder = TaskHolder()
        let task = Task {
            try await cluster.compressFile(at: folder.file("input"), to: folder.file("input.gz")) { progress in
                if progress.chunksDone == 2 { holder.cancel() }
            }
        }
        holder.set(task)
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try folder.contents() == ["input"])
    }
}

/// Lets a progress handler cancel the task it runs in.
final class TaskHolder: Sendable {
    private let task = Mutex<Task<JobReport, any Error>?>(nil)
    private let cancelRequested = Mutex(false)

    func set(_ task: Task<JobReport, any Error>) {
        let early = cancelRequested.withLock { $0 }
        self.task.withLock { $0 = task }
        if early { task.cancel() }
    }

    func cancel() {
        cancelRequested.withLock { $0 = true }
        task.withLock { $0 }?.cancel()
    }
}
