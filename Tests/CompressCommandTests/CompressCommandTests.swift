import FPGATestSupport
import Foundation
import Testing

/// `fpga-compress` as a user runs it.
@Suite("fpga-compress command line")
struct CompressCommandTests {
    /// The built executable, beside the test bundle.
    static let executable = WorkerProcess.executable("fpga-compress")

    func run(_ arguments: [String], input: [UInt8] = []) async throws -> (status: Int32, output: [UInt8], error: String)
    {
        try await ExternalTools.run([Self.executable] + arguments, input: input)
    }

    @Test func compressAndDecompressLikeGzip() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 200_000)
        try folder.write("notes.txt", data)

        let compressed = try await run(["--local", "2", "--chunk-size", "16K", folder.file("notes.txt")])
        #expect(compressed.status == 0, "\(compressed.error)")
        #expect(compressed.error.contains("chunks sim0="), "summary line: \(compressed.error)")
        #expect(compressed.error.split(separator: "\n").count == 1)
        #expect(try await ExternalTools.gzipDecompress(try folder.read("notes.txt.gz")) == data)

        try FileManager.default.removeItem(atPath: folder.file("notes.txt"))
        let restored = try await run(["-d", "-q", folder.file("notes.txt.gz")])
        #expect(restored.status == 0, "\(restored.error)")
        #expect(restored.error.isEmpty)
        #expect(try folder.read("notes.txt") == data)
        #expect(try folder.contents() == ["notes.txt", "notes.txt.gz"])
    }

    @Test func pipesThroughStandardStreams() async throws {
        let data = TestData.logLines(count: 50_000)
        let compressed = try await run(["-c", "-q", "-"], input: data)
        #expect(compressed.status == 0, "\(compressed.error)")
        #expect(try await ExternalTools.gzipDecompress(compressed.output) == data)
        let restored = try await run(["-d", "-c", "-q", "-"], input: compressed.output)
        #expect(restored.status == 0, "\(restored.error)")
        #expect(restored.output == data)
    }

    /// `producer | fpga-compress -d | consumer`: what the pipe has given comes out while
    /// the pipe stays open, as with gzip, not only when a buffer fills or the input ends.
    @Test func decompressingAPipeStreams() async throws {
        let data = TestData.logLines(count: 300_000)
        let gz = try await ExternalTools.run(["gzip", "-c", "-1"], input: data).output
        let job = try await ChildProcess.start(
            Self.executable, arguments: ["-d", "-c", "-q", "-"], input: .heldAfter(gz))
        defer { job.kill() }
        try await waitUntil("decompressed output while standard input is still open") {
            job.output.count >= data.count
        }
        #expect(job.output == data)
        job.closeStandardInput()
        #expect(try await job.exit() == .exited(0))
        #expect(job.output == data)
    }

    /// Writes 200,000 log lines to `log` in `folder` and compresses them to `log.gz` in
    /// members of 16 KiB; returns the lines.
    func ownFile(in folder: TemporaryDirectory) async throws -> [UInt8] {
        let data = TestData.logLines(count: 200_000)
        try folder.write("log", data)
        let compressed = try await run(["-q", "--local", "2", "--chunk-size", "16K", folder.file("log")])
        try #require(compressed.status == 0, "\(compressed.error)")
        return data
    }

    /// `-d -c` with standard output redirected to a file: an indexed file's members are
    /// written in place, from where the output stood, and the next writer to the same
    /// descriptor follows them. With `>>` (append mode) they are written in order instead;
    /// the file is the same.
    @Test(arguments: [">", ">>"])
    func decompressingToARedirectedFileWritesAfterWhatItHolds(redirect: String) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = try await ownFile(in: folder)

        let script = "{ printf head; '\(Self.executable)' -d -c -q '\(folder.file("log.gz"))'; printf tail; }"
        let result = try await ExternalTools.run(["sh", "-c", "\(script) \(redirect) '\(folder.file("out"))'"])
        #expect(result.status == 0, "\(result.error)")
        let out = try folder.read("out")
        let expected = Array("head".utf8) + data + Array("tail".utf8)
        // Compared as a Bool: a failure prints sizes, not megabytes of bytes.
        #expect(out == expected, "\(out.count) bytes, expected \(expected.count)")
    }

    /// A corrupt member in an indexed file decompressed to a redirected standard output:
    /// status 1, one line, and the file holds whole members from the start and nothing
    /// after them, as if they had been written in order (members after the bad one that
    /// were already written in place are cut off).
    @Test func aCorruptMemberLeavesOnlyWholeMembersBeforeIt() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = try await ownFile(in: folder)
        var gz = try folder.read("log.gz")
        gz[gz.count / 2] ^= 0x55
        try folder.write("bad.gz", gz)

        let command = "'\(Self.executable)' -d -c -q --local 2 '\(folder.file("bad.gz"))' > '\(folder.file("out"))'"
        let result = try await ExternalTools.run(["sh", "-c", command])
        #expect(result.status == 1)
        #expect(result.error.hasPrefix("fpga-compress: ") && result.error.split(separator: "\n").count == 1)
        let out = try folder.read("out")
        #expect(out.count % 16384 == 0 && out.count < data.count, "\(out.count) bytes of \(data.count)")
        let wholeMembersFromTheStart = out == Array(data.prefix(out.count))
        #expect(wholeMembersFromTheStart)
    }

    @Test func errorsAreOneLineAndLeaveNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }

        let missing = try await run([folder.file("nothing")])
        #expect(missing.status == 1)
        #expect(missing.error == "fpga-compress: \(folder.file("nothing")): no such file\n")

        try folder.write("a", [1, 2, 3])
        try folder.write("a.gz", [9])
        let exists = try await run([folder.file("a")])
        #expect(exists.status == 1)
        #expect(exists.error.hasPrefix("fpga-compress: ") && exists.error.contains("already exists"))
        #expect(exists.error.split(separator: "\n").count == 1)
        #expect(try folder.read("a.gz") == [9])

        try folder.write("bad.gz", Array("this is not gzip".utf8))
        let corrupt = try await run(["-d", folder.file("bad.gz")])
        #expect(corrupt.status == 1)
        #expect(corrupt.error == "fpga-compress: not in gzip format (at byte 0)\n")

        let suffix = try await run(["-d", folder.file("a")])
        #expect(suffix.status == 1)
        #expect(suffix.error.contains("unknown suffix"))

        let size = try await run(["--chunk-size", "lots", folder.file("a")])
        #expect(size.status != 0)
        #expect(size.error.contains("--chunk-size"))

        #expect(try folder.contents() == ["a", "a.gz", "bad.gz"])
    }

    @Test func versionIsOneSemanticVersionLine() async throws {
        let version = try await run(["--version"])
        #expect(version.status == 0, "\(version.error)")
        #expect(version.error.isEmpty)
        let text = String(decoding: version.output, as: UTF8.self)
        #expect(text.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?\n/) != nil, "\(text)")
    }

    @Test func forceOverwrites() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("a", Array("fresh".utf8))
        try folder.write("a.gz", [9])
        let forced = try await run(["-f", "-q", folder.file("a")])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(try await ExternalTools.gzipDecompress(try folder.read("a.gz")) == Array("fresh".utf8))
    }

    /// SIGINT in the middle of a job (its input still open) cancels it: status 130, one
    /// line, and the partial output removed. The same for SIGTERM.
    @Test(arguments: [SIGINT, SIGTERM])
    func anInterruptedJobLeavesNoOutput(signal: Int32) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let child = try await ChildProcess.start(
            Self.executable,
            arguments: ["-q", "--local", "1", "--chunk-size", "64K", "-o", folder.file("out.gz"), "-"],
            input: .heldAfter(TestData.random(count: 1 << 20, seed: 7)))
        defer { child.kill() }
        // The job runs once its partial output exists.
        try await waitUntil("partial output from \(child.name)") {
            try folder.contents().contains { $0.hasPrefix(".out.gz.partial-") }
        }
        child.signal(signal)
        #expect(try await child.exit() == .exited(130), "\(child.errorText)")
        #expect(child.errorText == "fpga-compress: interrupted; no output written\n")
        #expect(try folder.contents() == [])
    }
}

/// `fpga-compress --metrics-listen`: the dashboard of a job's cluster, served while the job
/// runs and gone when it ends. The job reads standard input, held open by the test, so it
/// provably runs while the test reads the dashboard.
@Suite("fpga-compress --metrics-listen")
struct CompressDashboardTests {
    static let executable = CompressCommandTests.executable

    /// The sum of `key` over the devices of a /status.json body.
    static func total(_ key: String, in json: String) throws -> Int {
        let devices = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]], "not a JSON array: \(json)")
        return devices.reduce(0) { $0 + (($1[key] as? Int) ?? 0) }
    }

    @Test func theDashboardShowsTheRunningJobAndStopsWithIt() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 1 << 20)
        let child = try await ChildProcess.start(
            Self.executable,
            arguments: [
                "-q", "--local", "2", "--chunk-size", "64K", "--metrics-listen", "127.0.0.1:0", "-o",
                folder.file("out.gz"), "-",
            ],
            input: .heldAfter(data))
        defer { child.kill() }
        try await waitUntil("the dashboard line of \(child.name)") { child.errorText.contains("\n") }
        let line = child.errorText
        let match = try #require(
            line.wholeMatch(
                of: /fpga-compress: dashboard on (http:\/\/127\.0\.0\.1:[0-9]+)\/ \(metrics on \/metrics\)\n/),
            "standard error: \(line)")
        let base = String(match.1)

        // The 16 chunks of the input run on the devices; the job itself waits for the end of
        // its input, which the test still holds.
        let status = try await HTTPProbe.poll(base + "/status.json", for: "a completed run") {
            try Self.total("completed", in: $0.body) > 0
        }
        #expect(status.contentType == "application/json")
        let page = try await HTTPProbe.request("GET", base + "/")
        #expect(page.status == 200)
        #expect(page.contentType == "text/html; charset=utf-8")
        #expect(page.body.contains("<title>fpga-compress stdin</title>"))
        for device in ["sim0", "sim1"] {
            #expect(page.body.contains("/\(device)\" data-host="), "no card for \(device)")
        }
        #expect(page.body.contains("class=\"utilisation\""))
        #expect(page.body.contains("class=\"sparkline\""))
        let metrics = try await HTTPProbe.request("GET", base + "/metrics")
        #expect(metrics.body.contains("fpgacluster_device_runs_completed_total{"))
        #expect(try await HTTPProbe.request("GET", base + "/health").body == "ok\n")
        #expect(child.isRunning)

        // A second job asking for the same port: one line, and no output file.
        let taken = String(base.dropFirst("http://".count))
        try folder.write("second", Array("second input".utf8))
        let second = try await ExternalTools.run([
            Self.executable, "--local", "1", "--metrics-listen", taken, "-o", folder.file("second.gz"),
            folder.file("second"),
        ])
        #expect(second.status == 1)
        #expect(second.error == "fpga-compress: cannot serve metrics on \(taken): address already in use\n")
        #expect(try !folder.contents().contains("second.gz"))

        child.closeStandardInput()
        #expect(try await child.exit() == .exited(0), "\(child.errorText)")
        #expect(child.errorText == line)
        #expect(try await ExternalTools.run(["gzip", "-t", folder.file("out.gz")]).status == 0)
        #expect(try await ExternalTools.gzipDecompress(try folder.read("out.gz")) == data)
        // The job's end stopped the server.
        await #expect(throws: ToolFailure.self) { _ = try await HTTPProbe.request("GET", base + "/health") }
    }

    @Test func aFailedJobStillEndsWithOneLineAfterTheDashboardLine() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("a", [1, 2, 3])
        try folder.write("a.gz", [9])
        let result = try await ExternalTools.run([
            Self.executable, "--local", "1", "--metrics-listen", "127.0.0.1:0", folder.file("a"),
        ])
        #expect(result.status == 1)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 2, "\(result.error)")
        #expect(lines.first?.hasPrefix("fpga-compress: dashboard on http://127.0.0.1:") == true)
        #expect(lines.last?.contains("already exists") == true)
        #expect(try folder.read("a.gz") == [9])
    }
}
