import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `fpga-worker` process on a free loopback port, for integration tests.
public final class WorkerProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is set once in init; Foundation's Process is
    // thread-safe for the calls used here (pid, terminate, waitUntilExit).
    public let address: String
    public let process: Process
    private let errorPipe: Pipe
    /// The worker's standard input: it runs with `--exit-with-stdin`, so it shuts down when
    /// this pipe closes, which the kernel does when the test process ends, however it ends.
    private let inputPipe = Pipe()

    /// Starts `fpga-worker --listen 127.0.0.1:0` with `arguments` and waits for its
    /// address line.
    public init(executable: String, arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--listen", "127.0.0.1:0", "--exit-with-stdin"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["FPGACLUSTER_TOKEN"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let output = Pipe()
        errorPipe = Pipe()
        process.standardOutput = output
        process.standardError = errorPipe
        process.standardInput = inputPipe
        try process.run()
        var line: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first else {
                throw ToolFailure("fpga-worker exited before listening: \(Self.drain(errorPipe))")
            }
            if first == 0x0a { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on ") else { throw ToolFailure("unexpected first line: \(text)") }
        address = String(text.dropFirst("listening on ".count))
    }

    public var pid: Int32 { process.processIdentifier }

    /// Sends a signal to the worker.
    public func signal(_ number: Int32) { kill(pid, number) }

    /// Kills the worker (SIGKILL, after SIGCONT in case it is stopped) and waits for it.
    public func stop() {
        if process.isRunning {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// Closes the worker's standard input, as the end of the test process would.
    public func closeStandardInput() { try? inputPipe.fileHandleForWriting.close() }

    /// Waits for the worker to exit; returns its status.
    public func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// What the worker wrote on standard error (after it exited).
    public func errorOutput() -> String { Self.drain(errorPipe) }

    private static func drain(_ pipe: Pipe) -> String {
        String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit { stop() }

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
