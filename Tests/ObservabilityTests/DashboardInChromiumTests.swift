import FPGATestSupport
import FPGATestSync
import Foundation
import Testing

/// Debian's Chromium renders a real worker's dashboard while a real `fpga-compress` job
/// runs on it: an element for every device, with its utilisation bar and sparkline, and a
/// screenshot under `.build/observability/dashboard.png`.
@Suite("the dashboard in Chromium", .serialized, .timeLimit(stuckTestLimit))
struct DashboardInChromiumTests {
    /// The repository's root, from this file's path.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Where the screenshot goes: beside the build, for CI to keep and for the docs.
    static let screenshot = repository + "/.build/observability/dashboard.png"

    /// The sum of `key` over the devices of a /status.json body.
    static func total(_ key: String, in json: String) throws -> Int {
        let devices = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]], "not a JSON array: \(json)")
        return devices.reduce(0) { $0 + (($1[key] as? Int) ?? 0) }
    }

    /// `chromium --headless` with `arguments`, under a watchdog, with a profile of its own.
    static func chromium(_ tool: RequiredTool, _ arguments: [String]) async throws -> ChildProcess {
        let profile = try TemporaryDirectory("chromium-profile")
        defer { profile.remove() }
        let child = try await ChildProcess.start(
            tool.path,
            arguments: [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--hide-scrollbars", "--user-data-dir=\(profile.path)",
            ] + arguments)
        let status = try await child.exit(within: .seconds(120))
        #expect(status == .exited(0), "\(child.name): \(child.errorText)")
        return child
    }

    @Test func chromiumRendersEveryDeviceDuringAJob() async throws {
        let chromium = try RequiredTool("chromium", package: "chromium")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        // Slow simulated devices: the job's inputs take seconds, so the page shows them busy.
        let worker = try await WorkerProcess.start(arguments: [
            "--device", "sim", "--device", "sim", "--timing", "1", "--metrics-listen", "127.0.0.1:0", "--worker-id",
            "worker-a",
        ])
        defer { worker.stop() }
        let base = try await worker.metricsURL()

        // The job reads standard input, which the test holds open: it runs until the test ends it.
        let data = TestData.logLines(count: 32 << 20)
        let job = try await ChildProcess.start(
            WorkerProcess.executable("fpga-compress"),
            arguments: [
                "-q", "--workers", worker.address, "--local", "0", "--chunk-size", "256K", "-o",
                folder.file("out.gz"), "-",
            ],
            input: .heldAfter(data))
        defer { job.kill() }
        _ = try await HTTPProbe.poll(base + "/status.json", for: "a run completed on the worker") {
            try Self.total("completed", in: $0.body) > 0
        }

        let dump = try await Self.chromium(chromium, ["--dump-dom", base + "/"])
        let dom = String(decoding: dump.output, as: UTF8.self)
        #expect(dom.contains("<title>fpga-worker worker-a</title>"), "\(dom.prefix(2000))")
        for device in ["sim0", "sim1"] {
            let marker = "data-device=\"worker-a/\(device)\""
            let start = try #require(dom.range(of: marker), "no element for \(device) in the rendered page")
            let card = try #require(dom[start.lowerBound...].range(of: "</section>")).lowerBound
            let element = dom[start.lowerBound..<card]
            #expect(element.contains("data-state=\"ok\""))
            #expect(element.contains("<div class=\"utilisation\" data-busy=\""))
            #expect(element.contains("<rect class=\"fill "))
            #expect(element.contains("<polyline class=\"throughput\" points=\""))
            #expect(element.contains("<span class=\"peak\">peak "))
        }
        // The header's totals and the cluster's sparkline.
        #expect(dom.contains("<li data-total=\"devices\"><span class=\"value\">2</span> devices</li>"))
        #expect(dom.components(separatedBy: "<figure class=\"sparkline\"").count - 1 == 3)

        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: Self.screenshot).deletingLastPathComponent().path,
            withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: Self.screenshot)
        _ = try await Self.chromium(
            chromium, ["--screenshot=\(Self.screenshot)", "--window-size=1280,900", base + "/"])
        let png = try #require(FileManager.default.contents(atPath: Self.screenshot), "no \(Self.screenshot)")
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        // A blank 1280x900 page compresses to a few kilobytes; the dashboard's text and lines do not.
        #expect(png.count > 20_000, "the screenshot has \(png.count) bytes")

        job.closeStandardInput()
        #expect(try await job.exit() == .exited(0), "\(job.errorText)")
        #expect(try await ExternalTools.run(["gzip", "-t", folder.file("out.gz")]).status == 0)
        worker.closeStandardInput()
        #expect(try await worker.exit() == .exited(0))
    }
}
