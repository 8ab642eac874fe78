import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `fpga-worker` process on a free loopback port, for integration tests.
///
/// It runs with `--exit-with-stdin` on a pipe that only this process holds, so it shuts
/// down when the test process ends, however it ends; ``stop()`` kills it sooner. Its
/// standard output and error are drained while it runs (the error kept for failure
/// messages), and every wait for it is bounded by ``ChildProcess``'s watchdog.
public final class WorkerProcess: Sendable {
    public let address: String
    /// The process, for signals, exit and what it wrote.
    public let child: ChildProcess

    private init(address: String, child: ChildProcess) {
        self.address = address
        self.child = child
    }

    /// Starts `fpga-worker --listen 127.0.0.1:0 --exit-with-stdin` with `arguments`
    /// (without the test process's FPGACLUSTER_TOKEN, with `environment` added) and waits
    /// for its address line. Throws ``ToolFailure`` `fpga-worker exited before listening:`
    /// and its standard error when it exits first.
    public static func start(
        executable: String = WorkerProcess.executable("fpga-worker"), arguments: [String],
        environment: [String: String] = [:]
    ) async throws -> WorkerProcess {
        var changes: [String: String?] = ["FPGACLUSTER_TOKEN": nil]
        for (key, value) in environment { changes[key] = value }
        let child = try await ChildProcess.start(
            executable, arguments: ["--listen", "127.0.0.1:0", "--exit-with-stdin"] + arguments,
            environment: changes, input: .held)
        guard let line = try await child.firstOutputLine() else {
            _ = try await child.exit()
            throw ToolFailure("fpga-worker exited before listening: \(child.errorText)")
        }
        guard line.hasPrefix("listening on ") else {
            child.kill()
            throw ToolFailure("\(child.name): unexpected first line: \(line)")
        }
        return WorkerProcess(address: String(line.dropFirst("listening on ".count)), child: child)
    }

    /// The `http://HOST:PORT` of `metrics on http://HOST:PORT`, the second line of a worker
    /// started with `--metrics-listen`.
    public func metricsURL(within bound: Duration = ChildProcess.watchdog) async throws -> String {
        guard let line = try await child.secondOutputLine(within: bound) else {
            throw ToolFailure("fpga-worker exited before its metrics line: \(child.errorText)")
        }
        guard line.hasPrefix("metrics on ") else {
            throw ToolFailure("\(child.name): unexpected second line: \(line)")
        }
        return String(line.dropFirst("metrics on ".count))
    }

    public var pid: Int32 { child.pid }

    /// Whether the worker still runs.
    public var isRunning: Bool { child.isRunning }

    /// Sends a signal to the worker.
    public func signal(_ number: Int32) { child.signal(number) }

    /// Kills the worker (SIGKILL, after SIGCONT in case it is stopped); does not wait.
    public func stop() { child.kill() }

    /// Closes the worker's standard input, as the end of the test process would.
    public func closeStandardInput() { child.closeStandardInput() }

    /// Waits for the worker to exit; a worker still running after `bound` is killed and
    /// this throws a failure naming it, with its standard error.
    public func exit(within bound: Duration = ChildProcess.watchdog) async throws -> ChildExit {
        try await child.exit(within: bound)
    }

    /// What the worker wrote on standard error so far.
    public var errorOutput: String { child.errorText }

    deinit { child.kill() }

    /// The built executable `name`, found beside the test bundle.
    public static func executable(_ name: String) -> String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return name
    }
}
