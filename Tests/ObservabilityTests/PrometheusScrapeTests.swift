import FPGATestSupport
import FPGATestSync
import Foundation
import Testing

/// Debian's Prometheus server scrapes two real `fpga-worker` processes while a real
/// `fpga-compress` job runs on them, and its HTTP API shows the job: per-device input
/// byte counters that grew during the job and add up to its input.
///
/// The job is held open, not timed: its input comes through a pipe the test keeps open
/// after the last byte, so its whole chunks are compressed while the last, partial one
/// waits for the end of the input. A scrape that sees the whole chunks is provably one
/// taken during the job; the partial chunk is counted only after the test closes the pipe.
@Suite("Prometheus scrapes workers during a job", .serialized, .timeLimit(stuckTestLimit))
struct PrometheusScrapeTests {
    static let chunkSize = 256 << 10

    @Test func perDeviceByteCountersGrowAndAddUpToTheInput() async throws {
        let workers = try await [0, 1].asyncMap { _ in
            try await WorkerProcess.start(arguments: [
                "--device", "sim", "--heartbeat-ms", "500", "--metrics-listen", "127.0.0.1:0",
            ])
        }
        defer { for worker in workers { worker.stop() } }
        let metricsTargets = try await workers.asyncMap {
            String(try await $0.metricsURL().dropFirst("http://".count))
        }
        let prometheus = try await PrometheusProcess.start(job: "fpga-worker", targets: metricsTargets)
        defer { prometheus.stop() }
        try await waitUntil("Prometheus to scrape both workers") {
            let health = try await prometheus.targetHealth()
            return metricsTargets.allSatisfy { health[$0] == "up" }
        }

        let wholeChunks = 16
        let input = TestData.logLines(count: wholeChunks * Self.chunkSize + 1000, seed: 11)
        let first = Array(input.dropLast(1000))
        let directory = try TemporaryDirectory("prometheus-job")
        defer { directory.remove() }
        let output = directory.file("out.gz")
        let compress = try await ChildProcess.start(
            WorkerProcess.executable("fpga-compress"),
            arguments: [
                "--workers", workers.map(\.address).joined(separator: ","), "--chunk-size", "\(Self.chunkSize)",
                "-q", "-o", output, "-",
            ],
            environment: ["FPGACLUSTER_TOKEN": nil], input: .heldAfter(input))
        defer { compress.kill() }

        let total = "sum(fpgacluster_device_input_bytes_total)"
        // The whole chunks are compressed while the job still waits for the rest of its input.
        var during = 0.0
        try await waitUntil("a scrape showing the held job's whole chunks") {
            guard compress.isRunning else { throw ToolFailure("fpga-compress exited early: \(compress.errorText)") }
            during = try await prometheus.query(total).first?.value ?? 0
            return during >= Double(first.count)
        }
        #expect(compress.isRunning)

        compress.closeStandardInput()
        #expect(try await compress.exit() == .exited(0), "\(compress.errorText)")
        let written = try directory.read("out.gz")
        #expect(try await ExternalTools.gzipDecompress(written) == input)

        var after = 0.0
        try await waitUntil("a scrape showing the whole job") {
            after = try await prometheus.query(total).first?.value ?? 0
            return after >= Double(input.count)
        }
        // Each input counts once; a chunk sent again after a lost connection would count
        // twice, so the sum may exceed the input by at most a chunk.
        #expect(after >= Double(input.count) && after <= Double(input.count + Self.chunkSize))
        #expect(after > during, "the counters grew between the scrape during the job and the last one")

        // Both workers' devices ran chunks, and each worker is its own scrape target.
        let series = try await prometheus.query("fpgacluster_device_input_bytes_total")
        let instances = Set(series.filter { $0.value > 0 }.compactMap { $0.labels["instance"] })
        #expect(instances == Set(metricsTargets))
        #expect(series.allSatisfy { $0.labels["kind"] == "simulated" && $0.labels["program"] == "gzip" })
        let completed = try await prometheus.query("sum(fpgacluster_device_runs_completed_total)")
        #expect((completed.first?.value ?? 0) >= Double(wholeChunks + 1))
    }
}

extension Array {
    /// The array mapped by an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
