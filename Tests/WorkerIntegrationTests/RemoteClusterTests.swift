import FPGACluster
import FPGADrivers
import FPGATestSupport
import FPGATransport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fast failure detection for tests: heartbeats every 100 ms, frozen after 5 silent.
func testSettings(reconnectBudget: Duration = .seconds(1)) -> RemoteWorker.Settings {
    var settings = RemoteWorker.Settings()
    settings.heartbeatInterval = .milliseconds(100)
    settings.connectTimeout = .seconds(2)
    settings.reconnectDelays = [.milliseconds(50), .milliseconds(100), .milliseconds(200)]
    settings.reconnectBudget = reconnectBudget
    return settings
}

let workerExecutable = WorkerProcess.executable("fpga-worker")

func startWorker(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> WorkerProcess {
    try WorkerProcess(
        executable: workerExecutable, arguments: ["--heartbeat-ms", "100"] + arguments, environment: environment)
}

@Suite("a cluster of real fpga-worker processes", .serialized)
struct RemoteClusterTests {
    let data = TestData.logLines(count: 6 << 20)
    let chunk = 64 << 10

    func embedded() async throws -> [UInt8] {
        try await Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: chunk)).compress(data)
    }

    @Test func remoteOutputEqualsEmbedded() async throws {
        let one = try startWorker(["--device", "sim"])
        let two = try startWorker(["--device", "sim", "--device", "sim"])
        defer {
            one.stop()
            two.stop()
        }
        let cluster = try await Cluster(
            workers: [one.address, two.address], token: nil, configuration: .init(chunkSize: chunk),
            settings: testSettings())
        #expect(cluster.nodes.count == 3)
        #expect(cluster.nodes.allSatisfy { $0.isRemote })
        let gz = try await cluster.compress(data)
        let expected = try await embedded()
        try await expectSameMembers(gz, expected)
        for node in cluster.nodes {
            #expect((await node.completed["gzip"] ?? 0) > 0, "\(node.name) ran nothing")
        }
    }

    @Test func localAndRemoteDevicesMix() async throws {
        let worker = try startWorker()
        defer { worker.stop() }
        let cluster = try await Cluster(
            workers: [worker.address], token: nil, devices: .simulated(count: 1),
            configuration: .init(chunkSize: chunk), settings: testSettings())
        #expect(cluster.nodes.map(\.isRemote) == [false, true])
        let expected = try await embedded()
        let gz = try await cluster.compress(data)
        try await expectSameMembers(gz, expected)
    }

    @Test func tokensAuthenticateBothWays() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("token", Array("correct horse battery staple\n".utf8))
        try folder.write("wrong", Array("incorrect donkey battery staple".utf8))
        let worker = try startWorker(["--token-file", folder.file("token")])
        defer { worker.stop() }

        let right = try AuthToken.load(file: folder.file("token"))
        let cluster = try await Cluster(
            workers: [worker.address], token: right, configuration: .init(chunkSize: chunk), settings: testSettings())
        let sample = Array(data.prefix(200_000))
        let local = try Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: chunk))
        let expected = try await local.compress(sample)
        let gz = try await cluster.compress(sample)
        try await expectSameMembers(gz, expected)

        let wrong = try AuthToken.load(file: folder.file("wrong"))
        await #expect(throws: WireError.self) {
            _ = try await Cluster(workers: [worker.address], token: wrong, settings: testSettings())
        }
        await #expect(throws: WireError.authenticationFailed("the worker requires a token (use --token-file)")) {
            _ = try await Cluster(workers: [worker.address], token: nil, settings: testSettings())
        }
        // The worker survives failed handshakes and still serves.
        _ = try await Cluster(workers: [worker.address], token: right, settings: testSettings())
    }

    @Test func workerWithoutTokenRefusesNonLoopback() throws {
        let result = try ExternalTools.run([workerExecutable, "--listen", "0.0.0.0:0"])
        #expect(result.status == 1)
        #expect(result.error.contains("refusing to listen on 0.0.0.0:0 without a token"))
        #expect(result.error.split(separator: "\n").count == 1)
    }

    @Test func unreachableWorkerIsReportedAndSkipped() async throws {
        let worker = try startWorker()
        defer { worker.stop() }
        let dead = try startWorker()
        let deadAddress = dead.address
        dead.stop()
        let cluster = try await Cluster(
            workers: [worker.address, deadAddress], token: nil, configuration: .init(chunkSize: chunk),
            settings: testSettings())
        #expect(cluster.nodes.count == 1)
        #expect(cluster.unreachableWorkers.keys.contains(deadAddress))
        await #expect(throws: (any Error).self) {
            _ = try await Cluster(workers: [deadAddress], token: nil, settings: testSettings())
        }
    }

    /// Kills (SIGKILL) or freezes (SIGSTOP) one of two workers after `afterChunks`
    /// chunks; the job must finish with the same data in the same members.
    @Test(
        .timeLimit(.minutes(2)), arguments: [(SIGKILL, 1), (SIGKILL, 20), (SIGKILL, 70), (SIGSTOP, 10), (SIGTERM, 30)])
    func jobSurvivesLosingAWorker(signal: Int32, afterChunks: Int) async throws {
        // Slowed devices so the job lasts long enough to lose a worker in the middle.
        let victim = try startWorker(["--timing", "40"])
        let survivor = try startWorker(["--timing", "40"])
        defer {
            victim.stop()
            survivor.stop()
        }
        let cluster = try await Cluster(
            workers: [victim.address, survivor.address], token: nil, configuration: .init(chunkSize: chunk),
            settings: testSettings())
        let fired = Mutex(false)
        let started = ContinuousClock.now
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
        try await expectSameMembers(gz, expected)
        #expect(ContinuousClock.now - started < .seconds(60))
        if signal == SIGTERM {
            #expect(victim.waitForExit() == 0, "a worker shuts down cleanly on SIGTERM")
        }
    }

    /// A worker started with `--exit-with-stdin` (as every test worker is) shuts down
    /// cleanly when its standard input ends, so a test run that dies leaves no workers.
    @Test(.timeLimit(.minutes(1)))
    func aWorkerEndsWithItsStandardInput() async throws {
        let worker = try startWorker()
        defer { worker.stop() }
        worker.closeStandardInput()
        #expect(worker.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func jobFailsClearlyWhenNoWorkerIsLeft() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("input", data)
        let worker = try startWorker(["--timing", "40"])
        defer { worker.stop() }
        let cluster = try await Cluster(
            workers: [worker.address], token: nil, configuration: .init(chunkSize: chunk),
            settings: testSettings(reconnectBudget: .milliseconds(500)))
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

    @Test func compressCommandUsesWorkers() throws {
        let one = try startWorker()
        let two = try startWorker()
        defer {
            one.stop()
            two.stop()
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("log", data)
        let compress = WorkerProcess.executable("fpga-compress")
        let result = try ExternalTools.run([compress, "--workers", "\(one.address),\(two.address)", folder.file("log")])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("\(one.address)/sim0="), "\(result.error)")
        #expect(try ExternalTools.gzipDecompress(try folder.read("log.gz")) == data)

        let refused = try ExternalTools.run([compress, "--workers", "127.0.0.1:1", "-f", folder.file("log")])
        #expect(refused.status == 1)
        #expect(refused.error.hasPrefix("fpga-compress: "))
    }
}
