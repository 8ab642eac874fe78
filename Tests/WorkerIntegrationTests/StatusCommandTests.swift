import FPGATestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `fpga-worker status` against real worker processes after a real remote job: the table,
/// the JSON, and the exit status and messages for workers it cannot ask.
@Suite("fpga-worker status", .serialized)
struct StatusCommandTests {
    let data = TestData.logLines(count: 2 << 20)
    let chunk = 64 << 10

    /// Runs `fpga-worker status` with `arguments`.
    func status(_ arguments: [String]) async throws -> (status: Int32, output: String, error: String) {
        let result = try await ExternalTools.run([workerExecutable, "status"] + arguments)
        return (result.status, String(decoding: result.output, as: UTF8.self), result.error)
    }

    /// Compresses `data` with `fpga-compress --workers` over `workers`.
    func compress(over workers: [WorkerProcess], in folder: TemporaryDirectory) async throws {
        try folder.write("log", data)
        let result = try await ExternalTools.run([
            WorkerProcess.executable("fpga-compress"), "--workers", workers.map(\.address).joined(separator: ","),
            "--chunk-size", "\(chunk)", folder.file("log"),
        ])
        try #require(result.status == 0, "\(result.error)")
    }

    @Test func tableAndJSONCountTheJobsChunks() async throws {
        let one = try await startWorker(["--device", "sim"])
        let two = try await startWorker(["--device", "sim", "--device", "sim"])
        defer {
            one.stop()
            two.stop()
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await compress(over: [one, two], in: folder)
        let chunks = (data.count + chunk - 1) / chunk
        let workers = "\(one.address),\(two.address)"

        let table = try await status(["--workers", workers])
        #expect(table.status == 0, "\(table.error)")
        #expect(table.error.isEmpty)
        let lines = table.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "\(table.output)")
        #expect(
            lines[0].split(separator: " ") == [
                "HOST", "DEVICE", "KIND", "PROGRAM", "CUS", "BUSY", "QUEUED", "COMPLETED", "FAILED", "BYTES/S",
            ])
        let rows = lines.dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { $0[0] } == [one.address, two.address, two.address])
        #expect(rows.map { $0[1] } == ["sim0", "sim0", "sim1"])
        #expect(rows.allSatisfy { $0[2] == "simulated" })
        // Every chunk completed on one device (a device that ran none has no program yet).
        #expect(rows.reduce(0) { $0 + (Int($1[7]) ?? -1) } == chunks, "\(table.output)")
        #expect(rows.allSatisfy { $0[8] == "0" })
        // The columns line up: every row's COMPLETED ends where the header's does.
        let end = try #require(lines[0].range(of: "COMPLETED")).upperBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            let cells = line.split(separator: " ")
            let completed = try #require(line.range(of: " \(cells[7])  ", options: .literal))
            #expect(completed.upperBound.utf16Offset(in: line) - 2 == end, "\(table.output)")
        }

        let json = try await status(["--workers", workers, "--json"])
        #expect(json.status == 0, "\(json.error)")
        let parsed = try JSONSerialization.jsonObject(with: Data(json.output.utf8))
        let objects = try #require(parsed as? [[String: Any]])
        #expect(objects.count == 3)
        let inputBytes = objects.reduce(0) { $0 + (($1["inputBytes"] as? NSNumber)?.intValue ?? -1) }
        #expect(inputBytes == data.count)
        let completed = objects.reduce(0) { $0 + (($1["completed"] as? NSNumber)?.intValue ?? -1) }
        #expect(completed == chunks)
        for object in objects {
            #expect(object["busy"] is NSNumber && object["bytesPerSecond"] is NSNumber)
            #expect(object["problem"] is NSNull)
            #expect((object["host"] as? String).map([one.address, two.address].contains) == true)
        }
    }

    @Test func anUnreachableWorkerExitsOneAndIsNamed() async throws {
        let worker = try await startWorker()
        defer { worker.stop() }
        let result = try await status(["--workers", "\(worker.address),127.0.0.1:1"])
        #expect(result.status == 1)
        let lines = result.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(result.output)")
        #expect(lines[0].hasSuffix("PROBLEM"))
        #expect(lines[1].hasPrefix(worker.address))
        #expect(lines[2].hasPrefix("127.0.0.1:1 "))
        #expect(lines[2].contains("connection refused"))
        let errors = result.error.split(separator: "\n")
        #expect(errors.count == 1, "\(result.error)")
        #expect(errors.first?.hasPrefix("fpga-worker: 127.0.0.1:1: ") == true, "\(result.error)")
    }

    @Test func aWrongTokenIsAClearError() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("token", Array("correct horse battery staple\n".utf8))
        try folder.write("wrong", Array("incorrect donkey battery staple".utf8))
        let worker = try await startWorker(["--token-file", folder.file("token")])
        defer { worker.stop() }

        let right = try await status(["--workers", worker.address, "--token-file", folder.file("token")])
        #expect(right.status == 0, "\(right.error)")
        let wrong = try await status(["--workers", worker.address, "--token-file", folder.file("wrong")])
        #expect(wrong.status == 1)
        #expect(wrong.error.hasPrefix("fpga-worker: \(worker.address): authentication failed: "), "\(wrong.error)")
        #expect(wrong.error.split(separator: "\n").count == 1)
        let none = try await status(["--workers", worker.address])
        #expect(none.status == 1)
        #expect(
            none.error
                == "fpga-worker: \(worker.address): authentication failed: the worker requires a token (use --token-file)\n"
        )
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func watchRedrawsUntilASignalThenExitsZero(signal: Int32) async throws {
        let worker = try await startWorker()
        defer { worker.stop() }
        let watch = try await ChildProcess.start(
            workerExecutable, arguments: ["status", "--watch", "--interval-ms", "50", "--workers", worker.address])
        defer { watch.kill() }
        // Two screens drawn: each starts by homing the cursor and clearing the screen.
        let clear = "\u{1B}[H\u{1B}[2J"
        try await waitUntil("two --watch screens") {
            String(decoding: watch.output, as: UTF8.self).components(separatedBy: clear).count >= 3
        }
        watch.signal(signal)
        #expect(try await watch.exit() == .exited(0), "\(watch.errorText)")
        let screens = String(decoding: watch.output, as: UTF8.self).components(separatedBy: clear).dropFirst()
        for screen in screens {
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first?.hasPrefix("fpga-worker status  ") == true, "\(screen)")
            #expect(lines.first?.contains("workers 1/1  devices 1") == true, "\(screen)")
            let rows = lines.map { $0.split(separator: " ").map(String.init) }
            #expect(rows.contains { $0.prefix(3) == [worker.address, "sim0", "simulated"] }, "\(screen)")
        }
        #expect(watch.errorText.isEmpty)
    }

    /// `status --listen`: the cluster view, every worker's devices on one dashboard, until a
    /// signal; `/health` names a worker that stops answering.
    @Test func listenServesTheClusterDashboardUntilASignal() async throws {
        let one = try await startWorker(["--device", "sim"])
        let two = try await startWorker(["--device", "sim", "--device", "sim"])
        defer {
            one.stop()
            two.stop()
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await compress(over: [one, two], in: folder)
        let view = try await ChildProcess.start(
            workerExecutable,
            arguments: ["status", "--workers", "\(one.address),\(two.address)", "--listen", "127.0.0.1:0"],
            input: .held)
        defer { view.kill() }
        let line = try #require(try await view.firstOutputLine(), "\(view.errorText)")
        #expect(line.hasPrefix("dashboard on http://127.0.0.1:") && line.hasSuffix("/"))
        let url = String(line.dropFirst("dashboard on ".count).dropLast())

        let page = try await HTTPProbe.request("GET", url + "/")
        #expect(page.status == 200)
        #expect(page.contentType.hasPrefix("text/html"))
        for device in ["\(one.address)/sim0", "\(two.address)/sim0", "\(two.address)/sim1"] {
            #expect(page.body.contains("data-device=\"\(device)\""), "\(device)")
        }
        let json = try await HTTPProbe.request("GET", url + "/status.json")
        let rows = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [[String: Any]] ?? []
        #expect(rows.count == 3)
        let completed = rows.reduce(0) { $0 + (($1["completed"] as? Int) ?? 0) }
        #expect(completed == (data.count + chunk - 1) / chunk)
        #expect(try await HTTPProbe.request("GET", url + "/health").status == 200)

        two.stop()
        _ = try await two.exit()
        let health = try await HTTPProbe.request("GET", url + "/health")
        #expect(health.status == 503)
        #expect(health.body.hasPrefix("\(two.address): "), "\(health.body)")

        view.signal(SIGTERM)
        #expect(try await view.exit() == .exited(0), "\(view.errorText)")
    }

    @Test func badArgumentsAreOneLine() async throws {
        let missing = try await status([])
        #expect(missing.status == 64)
        #expect(missing.error == "fpga-worker: status needs --workers HOST:PORT,...\n")
        let bad = try await status(["--workers", "nowhere:http"])
        #expect(bad.status == 64)
        #expect(bad.error == "fpga-worker: bad worker 'nowhere:http': 'http' is not a port (1 to 65535)\n")
        #expect(bad.error.split(separator: "\n").count == 1)
        // A name without a port gets the default one, and is then a worker that cannot be asked.
        let unknown = try await status(["--workers", "nowhere.invalid"])
        #expect(unknown.status == 1)
        #expect(unknown.error.hasPrefix("fpga-worker: nowhere.invalid:7070: "), "\(unknown.error)")
        let both = try await status(["--workers", "127.0.0.1:1", "--listen", "127.0.0.1:0", "--json"])
        #expect(both.status == 64)
        #expect(both.error == "fpga-worker: --listen serves the dashboard: it does not go with --watch or --json\n")
        let interval = try await status(["--workers", "127.0.0.1:1", "--watch", "--interval-ms", "0"])
        #expect(interval.status == 64)
        #expect(interval.error == "fpga-worker: --interval-ms must be between 10 and 3600000\n")
    }
}
