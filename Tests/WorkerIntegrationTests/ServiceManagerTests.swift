import FPGACluster
import FPGAExecution
import FPGATestSupport
import FPGATransport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// fpga-worker under a service manager: `--device auto`, systemd's readiness protocol
/// (`NOTIFY_SOCKET`), and exit statuses that say what failed.
@Suite("fpga-worker under a service manager", .serialized)
struct ServiceManagerTests {
    @Test func autoServesOneSimulatedDevicePerCoreWithoutCards() async throws {
        let worker = try await startWorker(["--device", "auto"])
        defer { worker.stop() }
        let remote = WorkerConnection(
            endpoint: try Endpoint(parsing: worker.address), token: nil, settings: testSettings())
        let welcome = try await remote.connect()
        await remote.disconnect()
        // The worker runs with this process's affinity, so it sees the same cores.
        let cores = ProcessorInfo.activeCores
        #expect(welcome.devices.count == cores)
        #expect(welcome.devices.allSatisfy { $0.kind == .simulated })
        #expect(welcome.devices.map(\.name) == (0..<cores).map { "sim\($0)" })
        #expect(
            worker.errorOutput.contains("serving \(cores) simulated devices, one per core"), "\(worker.errorOutput)")
        worker.signal(SIGTERM)
        #expect(try await worker.exit() == .exited(0))
    }

    @Test func autoIsGivenAlone() async throws {
        let result = try await ExternalTools.run([
            workerExecutable, "--listen", "127.0.0.1:0", "--device", "auto", "--device", "sim",
        ])
        #expect(result.status == 64)
        #expect(result.error == "fpga-worker: --device auto serves every device it finds: give it alone\n")
    }

    /// systemd's side of Type=notify: READY=1 once the ports listen, STOPPING=1 when SIGTERM
    /// starts the drain, then exit 0.
    @Test(arguments: [false, true])
    func readinessAndStoppingReachTheNotifySocket(abstract: Bool) async throws {
        let folder = try TemporaryDirectory("notify")
        defer { folder.remove() }
        let socket =
            abstract
            ? try NotifySocket(
                path: "fpgacluster-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", abstract: true)
            : try NotifySocket(path: folder.file("notify"))
        let worker = try await startWorker(
            ["--device", "sim", "--device", "sim", "--metrics-listen", "127.0.0.1:0"],
            environment: ["NOTIFY_SOCKET": socket.address])
        defer { worker.stop() }
        _ = try await worker.metricsURL()
        let ready = try await socket.message(with: "READY=1")
        #expect(ready.contains("STATUS=serving 2 devices on \(worker.address)\n"), "\(ready)")
        #expect(ready.contains("MAINPID=\(worker.pid)\n"), "\(ready)")

        worker.signal(SIGTERM)
        let stopping = try await socket.message(with: "STOPPING=1")
        #expect(stopping.contains("STATUS=draining"), "\(stopping)")
        #expect(try await worker.exit() == .exited(0))
    }

    @Test func theEndOfInputIsAGracefulStopToo() async throws {
        let folder = try TemporaryDirectory("notify")
        defer { folder.remove() }
        let socket = try NotifySocket(path: folder.file("notify"))
        let worker = try await startWorker(environment: ["NOTIFY_SOCKET": socket.address])
        defer { worker.stop() }
        _ = try await socket.message(with: "READY=1")
        worker.closeStandardInput()
        _ = try await socket.message(with: "STOPPING=1")
        #expect(try await worker.exit() == .exited(0))
    }

    /// Each exit status with a real case, and its one-line message.
    @Test func exitStatusesSayWhatFailed() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("short-token", Array("short\n".utf8))
        try folder.write("gzip.xclbin", AXLFWriter.gzip().bytes())
        try folder.write("garbage.xclbin", [UInt8](repeating: 0x5a, count: 1000))
        let running = try await startWorker()
        defer { running.stop() }

        // XRT's hardware shim without emulation: it finds no card, so xrt:7 cannot be opened.
        let root = try NoopXRT.install()
        let hardware = ["-u", "XCL_EMULATION_MODE", "XILINX_XRT=\(root)", "XRT_INI_PATH=\(root)/xrt.ini"]
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["--listen", running.address], 75, "cannot listen on"),
            (["--listen", "127.0.0.1:0", "--token-file", folder.file("missing")], 66, "not found"),
            (["--listen", "127.0.0.1:0", "--token-file", folder.file("short-token")], 78, "a token needs at least"),
            (["--listen", "127.0.0.1:0", "--device", "sim", "--bogus"], 64, "--bogus"),
            (["--listen", "127.0.0.1:0", "--device", "warp-drive"], 64, "unknown device 'warp-drive'"),
            (["--listen", "127.0.0.1:0", "--timing", "fast"], 64, "--timing must be"),
            (["--listen", "0.0.0.0:0"], 78, "refusing to listen on 0.0.0.0:0 without a token"),
            (["--listen", "127.0.0.1:0", "--xclbin", "gzip=\(folder.file("gzip.xclbin"))"], 78, "for XRT devices"),
            (
                ["--listen", "127.0.0.1:0", "--device", "xrt:0", "--xclbin", "gzip=\(folder.file("none.xclbin"))"],
                66, "No such file"
            ),
            (
                ["--listen", "127.0.0.1:0", "--device", "xrt:0", "--xclbin", "gzip=\(folder.file("garbage.xclbin"))"],
                78, "magic"
            ),
            (["--listen", "127.0.0.1:0", "--model", folder.file("none.cnv")], 66, "no such file"),
        ]
        for (arguments, status, message) in cases {
            let result = try await ExternalTools.run([workerExecutable] + arguments)
            #expect(result.status == status, "\(arguments): \(result.error)")
            #expect(result.error.hasPrefix("fpga-worker: ") || status == 64, "\(arguments): \(result.error)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
            // ArgumentParser's own usage errors add the usage lines.
            #expect(
                arguments.contains("--bogus") || result.error.split(separator: "\n").count == 1,
                "\(arguments): \(result.error)")
        }
        let absent = try await ExternalTools.run(
            hardware + [
                workerExecutable, "--listen", "127.0.0.1:0", "--device", "xrt:7", "--xclbin",
                "gzip=\(folder.file("gzip.xclbin"))",
            ])
        #expect(absent.status == 69, "\(absent.error)")
        #expect(absent.error.hasPrefix("fpga-worker: "), "\(absent.error)")
        #expect(absent.error.split(separator: "\n").count == 1, "\(absent.error)")

        running.signal(SIGTERM)
        #expect(try await running.exit() == .exited(0))
    }
}
