import FPGADevice
import FPGAJobs
import FPGAMetricsServer
import FPGATestSupport
import FPGATestSync
import Prometheus
import Testing

/// A metrics server on a free loopback port, asked through a real HTTP client (curl): its
/// metrics are the registry's, its health follows the devices' runs, and it turns away what
/// it does not serve.
@Suite("the metrics server", .timeLimit(stuckTestLimit))
struct MetricsServerTests {
    static let job = GzipCompressionJob(chunkSize: 4096)
    static let input = ArraySlice(TestData.logLines(count: 100, seed: 5).prefix(4096))

    /// The value of the sample of `metric` whose labels include `label`.
    static func sample(_ metric: String, _ label: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(metric + "{") && line.contains(label) {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    @Test func metricsShowTheRunsOfALocalNode() async throws {
        let registry = PrometheusCollectorRegistry()
        let node = LocalNode(
            device: SimulatedDevice(name: "sim0", kernels: ProgramLibrary.builtInKernels),
            metrics: PrometheusMetricsFactory(registry: registry))
        let server = try await MetricsServer.start(host: "127.0.0.1", port: 0, registry: registry, checks: [])
        #expect(server.port != 0)
        #expect(server.address == "127.0.0.1:\(server.port)")
        _ = try await node.run(Self.job, Self.input)
        _ = try await node.run(Self.job, Self.input)

        let response = try await HTTPProbe.request("GET", "http://\(server.address)/metrics")
        await server.stop()
        #expect(response.status == 200)
        #expect(response.contentType.hasPrefix("text/plain; version=0.0.4"))
        let device = "device=\"sim0\""
        #expect(Self.sample("fpgacluster_device_runs_completed_total", device, in: response.body) == 2)
        #expect(Self.sample("fpgacluster_device_runs_failed_total", device, in: response.body) == 0)
        #expect(
            Self.sample("fpgacluster_device_input_bytes_total", device, in: response.body)
                == Double(2 * Self.input.count))
    }

    @Test func healthFollowsTheDevicesRuns() async throws {
        let kernel = SwitchableGzipKernel()
        let failing = LocalNode(device: SimulatedDevice(name: "sim0", kernels: [kernel]))
        let steady = LocalNode(device: SimulatedDevice(name: "sim1", kernels: ProgramLibrary.builtInKernels))
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(),
            checks: [failing, steady].map(MetricsServer.check))
        let url = "http://\(server.address)/health"

        let before = try await HTTPProbe.request("GET", url)
        #expect(before.status == 200)
        #expect(before.body == "ok\n")

        kernel.setFailing(true)
        await #expect(throws: DeviceError.self) { try await failing.run(Self.job, Self.input) }
        _ = try await steady.run(Self.job, Self.input)
        let broken = try await HTTPProbe.request("GET", url)
        #expect(broken.status == 503)
        let lines = broken.body.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty)
        #expect(lines.first?.hasPrefix("sim0: run failed: ") == true)
        #expect(broken.body.contains("injected failure"))

        kernel.setFailing(false)
        _ = try await failing.run(Self.job, Self.input)
        let fixed = try await HTTPProbe.request("GET", url)
        #expect(fixed.status == 200)
        #expect(fixed.body == "ok\n")
        await server.stop()
    }

    @Test func healthListsEveryFailingCheck() async throws {
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(),
            checks: [{ "a: broken" }, { nil }, { "b: broken" }])
        let response = try await HTTPProbe.request("GET", "http://\(server.address)/health")
        await server.stop()
        #expect(response.status == 503)
        #expect(response.body == "a: broken\nb: broken\n")
    }

    @Test func otherPathsAndMethodsAreTurnedAway() async throws {
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), checks: [])
        let base = "http://\(server.address)"
        #expect(try await HTTPProbe.request("GET", base + "/").status == 404)
        #expect(try await HTTPProbe.request("GET", base + "/metricsx").status == 404)
        #expect(try await HTTPProbe.request("POST", base + "/metrics").status == 405)
        #expect(try await HTTPProbe.request("DELETE", base + "/health").status == 405)
        // Not HTTP: Hummingbird answers 400, and the server keeps serving.
        let status = try await HTTPProbe.rawStatusLine(
            host: server.host, port: server.port, sending: "NOT HTTP AT ALL\r\n\r\n")
        #expect(status.hasPrefix("HTTP/1.1 400"))
        #expect(try await HTTPProbe.request("GET", base + "/health").status == 200)
        await server.stop()
    }

    /// A client that sends half a request and waits is cut off once the connection has been
    /// idle for the server's idle timeout; the wait ends when the server closes, not on a timer.
    @Test func anIdleHalfRequestIsClosed() async throws {
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), checks: [],
            idleTimeout: .milliseconds(200))
        let status = try await HTTPProbe.rawStatusLine(host: server.host, port: server.port, sending: "GET /metr")
        // Closed without an answer (or with 408 Request Timeout): either way, not held.
        #expect(status.isEmpty || status.hasPrefix("HTTP/1.1 408"), "\(status)")
        #expect(try await HTTPProbe.request("GET", "http://\(server.address)/health").status == 200)
        await server.stop()
    }

    @Test func aPortInUseIsATypedError() async throws {
        let first = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), checks: [])
        let error = await #expect(throws: MetricsServerError.self) {
            _ = try await MetricsServer.start(
                host: "127.0.0.1", port: first.port, registry: PrometheusCollectorRegistry(), checks: [])
        }
        #expect(error?.reason == "address already in use")
        #expect(error?.description == "cannot serve metrics on 127.0.0.1:\(first.port): address already in use")
        // The first server still serves.
        #expect(try await HTTPProbe.request("GET", "http://\(first.address)/health").status == 200)
        await first.stop()
    }

    @Test func aStoppedServerNoLongerListens() async throws {
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), checks: [])
        #expect(try await HTTPProbe.request("GET", "http://\(server.address)/health").status == 200)
        await server.stop()
        await #expect(throws: ToolFailure.self) {
            _ = try await HTTPProbe.request("GET", "http://\(server.address)/health")
        }
    }
}
