import FPGATestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `fpga-worker status --watch` in a real terminal (a detached tmux session on a private
/// socket) during a real `fpga-compress --workers` job over two slowed-down workers: the
/// screen shows every device, and its COMPLETED counters move while the job runs.
@Suite("fpga-worker status --watch in tmux", .serialized)
struct StatusWatchTmuxTests {
    /// The longest any one wait of this test may take.
    let bound = Duration.seconds(90)

    @Test func watchRedrawsWhileAJobRuns() async throws {
        let tmux = try RequiredTool("tmux", package: "tmux")
        let workerExecutable = WorkerProcess.executable("fpga-worker")
        // 1 MB/s per compute unit: 24 MiB takes several seconds on two workers.
        let workers = [
            try await WorkerProcess.start(
                executable: workerExecutable, arguments: ["--heartbeat-ms", "500", "--timing", "1"]),
            try await WorkerProcess.start(
                executable: workerExecutable, arguments: ["--heartbeat-ms", "500", "--timing", "1"]),
        ]
        defer { for worker in workers { worker.stop() } }
        let folder = try TemporaryDirectory("fpgacluster-tmux")
        defer { folder.remove() }
        let data = TestData.logLines(count: 24 << 20)
        try folder.write("log", data)
        let socket = folder.file("sock")
        let addresses = workers.map(\.address).joined(separator: ",")

        func tmuxRun(_ arguments: [String]) async throws -> String {
            let result = try await ExternalTools.run([tmux.path, "-S", socket] + arguments, within: bound)
            guard result.status == 0 else {
                throw ToolFailure("tmux \(arguments.joined(separator: " ")) exited \(result.status): \(result.error)")
            }
            return String(decoding: result.output, as: UTF8.self)
        }

        // The pane keeps what the command printed after it ends, for the failure message.
        let command =
            "\(workerExecutable) status --watch --interval-ms 200 --workers \(addresses); "
            + "echo fpga-worker exited $?; exec sleep 600"
        _ = try await tmuxRun(["-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "50", command])
        let serverPID = Int32(
            try await tmuxRun(["display-message", "-p", "#{pid}"]).trimmingCharacters(in: .whitespacesAndNewlines))
        // Whatever happens below: the terminal and everything in it go.
        defer { if let serverPID { kill(serverPID, SIGKILL) } }

        let capturePane = { try await tmuxRun(["capture-pane", "-p"]) }
        let hosts = workers.map(\.address)
        var compress: ChildProcess?
        defer { compress?.kill() }
        var lastCapture = ""
        let outcome: Result<Void, any Error>
        do {
            // Every device on the screen before the job starts: each worker's sim0.
            var screen = try await waitForScreen("every device on the screen", capture: capturePane) {
                Self.rows(of: $0, hosts: hosts).count == hosts.count
            }
            lastCapture = screen
            let before = Self.completed(in: screen, hosts: hosts)

            compress = try await ChildProcess.start(
                WorkerProcess.executable("fpga-compress"),
                arguments: ["--workers", addresses, "--chunk-size", "256K", folder.file("log")])
            // Two captures with different counters: the screen is redrawn with new numbers.
            screen = try await waitForScreen("the COMPLETED counters to change", capture: capturePane) {
                Self.completed(in: $0, hosts: hosts).map { $0 != before } ?? false
            }
            lastCapture = screen
            #expect(screen.contains("fpga-worker status"))
            #expect(screen.contains("HOST"))
            #expect(screen.contains("COMPLETED"))
            let exit = try await compress?.exit(within: bound)
            #expect(exit == .exited(0), "\(compress?.errorText ?? "")")
            // Once the job is done, every chunk is counted on the screen.
            let chunks = (data.count + (256 << 10) - 1) / (256 << 10)
            lastCapture = try await waitForScreen("every chunk counted", capture: capturePane) {
                Self.completed(in: $0, hosts: hosts) == chunks
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try Self.save(lastCapture)
        _ = try? await tmuxRun(["kill-server"])
        try outcome.get()
    }

    /// Captures the pane until `condition` holds for a capture, which it returns; throws,
    /// naming `event` and with the last capture, after ``bound``.
    private func waitForScreen(
        _ event: String, capture: () async throws -> String, until condition: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + bound
        var screen = ""
        while clock.now < deadline {
            screen = try await capture()
            if condition(screen) { return screen }
            try await clock.sleep(for: .milliseconds(50))
        }
        try? Self.save(screen)
        throw ToolFailure("no \(event) within \(bound); the screen:\n\(screen)")
    }

    /// The table rows of `hosts`' devices on `screen`, split at spaces.
    static func rows(of screen: String, hosts: [String]) -> [[String]] {
        screen.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { cells in
            cells.count >= 10 && hosts.contains(cells[0]) && cells[1].hasPrefix("sim")
        }
    }

    /// The sum of the COMPLETED column, or nil while a device is missing.
    static func completed(in screen: String, hosts: [String]) -> Int? {
        let rows = rows(of: screen, hosts: hosts)
        guard rows.count == hosts.count else { return nil }
        var sum = 0
        for row in rows {
            guard let count = Int(row[7]) else { return nil }
            sum += count
        }
        return sum
    }

    /// Writes the capture to `.build/observability/status-watch.txt` in the package.
    static func save(_ capture: String) throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = package.appendingPathComponent(".build/observability")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(capture.utf8).write(to: folder.appendingPathComponent("status-watch.txt"))
    }
}
