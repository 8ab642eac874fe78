import FPGACluster
import FPGADrivers
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Failure detection for tests with real processes: heartbeats every 500 ms, frozen after 5
/// silent (2.5 s), on both sides. Faster detection made a loaded machine (a late heartbeat)
/// look like a lost worker; the heartbeat logic itself is tested in-process on a TestClock
/// (RemoteWorkerClockTests, ServerSessionClockTests). A connect (and handshake) may take
/// as long as a loaded machine needs, on both sides: it only bounds a wait for a peer that
/// does answer.
/// The cluster's settings for tests against worker processes: ``testSettings(reconnectBudget:)``
/// for its connections.
func testConfiguration(
    chunkSize: Int = Cluster.Configuration.defaultChunkSize, batchSize: Int = Cluster.Configuration.defaultBatchSize,
    reconnectBudget: Duration = .seconds(5)
) -> Cluster.Configuration {
    Cluster.Configuration(
        chunkSize: chunkSize, batchSize: batchSize, connection: testSettings(reconnectBudget: reconnectBudget))
}

func testSettings(reconnectBudget: Duration = .seconds(5)) -> WorkerConnection.Settings {
    var settings = WorkerConnection.Settings()
    settings.heartbeatInterval = .milliseconds(500)
    settings.connectTimeout = stuckWaitLimit
    settings.reconnectDelays = [.milliseconds(50), .milliseconds(100), .milliseconds(200)]
    settings.reconnectBudget = reconnectBudget
    return settings
}

let workerExecutable = WorkerProcess.executable("fpga-worker")

/// A worker for these tests. Its handshake deadline is the client's connect timeout
/// (``stuckWaitLimit``) unless a test gives its own: the worker's default 5 s cut off a normal
/// client's handshake once under `make test-stress`, when the whole suite and stress-ng held
/// both cores.
func startWorker(_ arguments: [String] = [], environment: [String: String] = [:]) async throws -> WorkerProcess {
    let handshakeMilliseconds = stuckWaitLimit.components.seconds * 1000
    let handshake =
        arguments.contains("--handshake-timeout-ms") ? [] : ["--handshake-timeout-ms", "\(handshakeMilliseconds)"]
    return try await WorkerProcess.start(
        executable: workerExecutable, arguments: ["--heartbeat-ms", "500"] + handshake + arguments,
        environment: environment)
}

@Suite("a cluster of real fpga-worker processes", .serialized)
struct RemoteClusterTests {
    let data = TestData.logLines(count: 6 << 20)
    let chunk = 64 << 10

    func embedded() async throws -> [UInt8] {
        try await Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: chunk)).compress(data)
    }

    @Test func remoteOutputEqualsEmbedded() async throws {
        let one = try await startWorker(["--device", "sim"])
        let two = try await startWorker(["--device", "sim", "--device", "sim"])
        defer {
            one.stop()
            two.stop()
        }
        let cluster = try await Cluster(
            workers: [one.address, two.address], token: nil, configuration: testConfiguration(chunkSize: chunk))
        try #require(cluster.nodes.count == 3)
        #expect(cluster.nodes.allSatisfy { $0 is RemoteNode })
        let gz = try await cluster.compress(data)
        let expected = try await embedded()
        expectSameBytes(gz, expected)
        // Which node ran how many chunks is up to the machine's speed (each pulls work as it
        // frees up, and a loaded node may run none); what the scheduler guarantees is that
        // every chunk completed somewhere (a run lost to a late heartbeat runs again).
        var completed = 0
        for node in cluster.nodes { completed += await node.completed["gzip"] ?? 0 }
        #expect(completed >= (data.count + chunk - 1) / chunk)
    }

    @Test func localAndRemoteDevicesMix() async throws {
        let worker = try await startWorker()
        defer { worker.stop() }
        let cluster = try await Cluster(
            workers: [worker.address], token: nil, devices: .simulated(count: 1),
            configuration: testConfiguration(chunkSize: chunk))
        try #require(cluster.nodes.map { $0 is RemoteNode } == [false, true])
        let expected = try await embedded()
        let gz = try await cluster.compress(data)
        expectSameBytes(gz, expected)
    }

    @Test func tokensAuthenticateBothWays() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("token", Array("correct horse battery staple\n".utf8))
        try folder.write("wrong", Array("incorrect donkey battery staple".utf8))
        let worker = try await startWorker(["--token-file", folder.file("token")])
        defer { worker.stop() }

        let right = try AuthToken.load(file: folder.file("token"))
        let cluster = try await Cluster(
            workers: [worker.address], token: right, configuration: testConfiguration(chunkSize: chunk))
        let sample = Array(data.prefix(200_000))
        let local = try Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: chunk))
        let expected = try await local.compress(sample)
        let gz = try await cluster.compress(sample)
        expectSameBytes(gz, expected)

        let wrong = try AuthToken.load(file: folder.file("wrong"))
        await #expect(throws: WireError.self) {
            _ = try await Cluster(workers: [worker.address], token: wrong, configuration: testConfiguration())
        }
        await #expect(throws: WireError.tokenRequired) {
            _ = try await Cluster(workers: [worker.address], token: nil, configuration: testConfiguration())
        }
        // The worker survives failed handshakes and still serves.
        _ = try await Cluster(workers: [worker.address], token: right, configuration: testConfiguration())
    }

    @Test func workerWithoutTokenRefusesNonLoopback() async throws {
        let result = try await ExternalTools.run([workerExecutable, "--listen", "0.0.0.0:0"])
        #expect(result.status == 78, "EX_CONFIG")
        #expect(result.error.contains("refusing to listen on 0.0.0.0:0 without a token"))
        #expect(result.error.split(separator: "\n").count == 1)
    }

    @Test func unreachableWorkerIsReportedAndSkipped() async throws {
        let worker = try await startWorker()
        defer { worker.stop() }
        let dead = try await startWorker()
        let deadAddress = dead.address
        dead.stop()
        _ = try await dead.exit()
        let cluster = try await Cluster(
            workers: [worker.address, deadAddress], token: nil, configuration: testConfiguration(chunkSize: chunk))
        #expect(cluster.nodes.count == 1)
        #expect(cluster.unreachableWorkers.keys.contains(deadAddress))
        await #expect(throws: (any Error).self) {
            _ = try await Cluster(workers: [deadAddress], token: nil, configuration: testConfiguration())
        }
    }

    /// Kills (SIGKILL) or freezes (SIGSTOP) one of two workers after `afterChunks`
    /// chunks; the job must finish with the same data in the same members.
    @Test(
        .timeLimit(stuckTestLimit),
        arguments: [(SIGKILL, 1), (SIGKILL, 20), (SIGKILL, 70), (SIGSTOP, 10), (SIGTERM, 30)])
    func jobSurvivesLosingAWorker(signal: Int32, afterChunks: Int) async throws {
        // Slowed devices so the job lasts long enough to lose a worker in the middle.
        let victim = try await startWorker(["--timing", "40"])
        let survivor = try await startWorker(["--timing", "40"])
        defer {
            victim.stop()
            survivor.stop()
        }
        let cluster = try await Cluster(
            workers: [victim.address, survivor.address], token: nil, configuration: testConfiguration(chunkSize: chunk))
        let fired = Mutex(false)
        let gz = try await cluster.compress(data) { progress in
            let fire = fired.withLock { done in
                if done || progress.chunksDone < afterChunks { return false }
                done = true
                return true
            }
            if fire { victim.signal(signal) }
        }
        #expect(fired.withLock { $0 })
        let expected = try await embedded()
        expectSameBytes(gz, expected)
        if signal == SIGTERM {
            #expect(try await victim.exit() == .exited(0), "a worker shuts down cleanly on SIGTERM")
        }
    }

    /// A worker stops cleanly (exit status 0) on SIGTERM, on SIGINT and at the end of its
    /// standard input (`--exit-with-stdin`, as every test worker runs, so a test run that
    /// dies leaves no workers), however soon after it printed its address: the moment a
    /// supervisor may first ask. Many rounds, each on a worker with four simulated devices
    /// (four busy device threads starting up beside its loop and DNS threads); the watchdog
    /// kills a worker that does not stop and fails naming it. Without the signal pipe, one
    /// round in ten or so hung (the signal came while SIGTERM was still SIG_IGN) or died of
    /// the signal (it came before any handler).
    @Test(arguments: StopRequest.allCases)
    func aWorkerStopsCleanlyHoweverSoonItIsAsked(_ request: StopRequest) async throws {
        let devices = Array(repeating: ["--device", "sim"], count: 4).flatMap { $0 }
        for round in 1...25 {
            let worker = try await startWorker(devices)
            defer { worker.stop() }
            request.send(to: worker)
            let status: ChildExit
            do {
                status = try await worker.exit(within: stuckWaitLimit)
            } catch {
                throw ToolFailure("round \(round), \(request): \(error)")
            }
            #expect(status == .exited(0), "round \(round), \(request): \(worker.child.name): \(worker.errorOutput)")
        }
    }

    /// A worker inherits none of the test process's descriptors, even one opened without
    /// close-on-exec (a stuck worker once held a Unix socket of the test process's).
    @Test func aWorkerInheritsNoDescriptorOfTheTests() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("marker", [])
        let leaky = open(folder.file("marker"), O_RDONLY)
        try #require(leaky >= 0)
        defer { close(leaky) }
        // How the marker reads in a descriptor listing: it does in ours.
        let marker = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(leaky)")
        try #require(marker == folder.file("marker"))
        let worker = try await startWorker()
        defer { worker.stop() }
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker.pid)/fd")
        let targets = entries.compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker.pid)/fd/\($0)")
        }
        #expect(!targets.isEmpty)
        #expect(!targets.contains(marker), "\(targets)")
    }

    @Test(.timeLimit(stuckTestLimit))
    func jobFailsClearlyWhenNoWorkerIsLeft() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("input", data)
        let worker = try await startWorker(["--timing", "40"])
        defer { worker.stop() }
        let cluster = try await Cluster(
            workers: [worker.address], token: nil,
            configuration: testConfiguration(chunkSize: chunk, reconnectBudget: .milliseconds(500)))
        let fired = Mutex(false)
        await #expect(throws: ClusterError.self) {
            try await cluster.compressFile(at: folder.file("input"), to: folder.file("input.gz")) { progress in
                let fire = fired.withLock { done in
                    if done || progress.chunksDone < 5 { return false }
                    done = true
                    return true
                }
                if fire { worker.signal(SIGKILL) }
            }
        }
        #expect(try folder.contents() == ["input"])
    }

    @Test func compressCommandUsesWorkers() async throws {
        let one = try await startWorker()
        let two = try await startWorker()
        defer {
            one.stop()
            two.stop()
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("log", data)
        let compress = WorkerProcess.executable("fpga-compress")
        let result = try await ExternalTools.run([
            compress, "--workers", "\(one.address),\(two.address)", folder.file("log"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("\(one.address)/sim0="), "\(result.error)")
        #expect(try await ExternalTools.gzipDecompress(try folder.read("log.gz")) == data)

        let refused = try await ExternalTools.run([compress, "--workers", "127.0.0.1:1", "-f", folder.file("log")])
        #expect(refused.status == 1)
        #expect(refused.error.hasPrefix("fpga-compress: "))
    }
}

/// How a test asks a worker to stop.
enum StopRequest: CaseIterable, CustomStringConvertible, Sendable {
    case terminate, interrupt, endOfInput

    func send(to worker: WorkerProcess) {
        switch self {
        case .terminate: worker.signal(SIGTERM)
        case .interrupt: worker.signal(SIGINT)
        case .endOfInput: worker.closeStandardInput()
        }
    }

    var description: String {
        switch self {
        case .terminate: "SIGTERM"
        case .interrupt: "SIGINT"
        case .endOfInput: "end of standard input"
        }
    }
}
