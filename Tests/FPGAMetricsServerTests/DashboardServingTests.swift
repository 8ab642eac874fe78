import FPGADevice
import FPGAJobs
import FPGAMetricsServer
import FPGATestSupport
import FPGATestSync
import Foundation
import Prometheus
import Testing

/// The dashboard's paths on a metrics server on a free loopback port, asked through curl:
/// served only with a status provider, turned away for other methods as every path is.
@Suite("the metrics server's dashboard", .timeLimit(stuckTestLimit))
struct DashboardServingTests {
    static let statuses = [
        DeviceStatus(
            host: "10.0.0.7:7070", device: "sim0", kind: "simulated", program: "gzip", computeUnits: 1, running: 1,
            completed: 3, inputBytes: 3000, outputBytes: 900, busySeconds: 1.5,
            history: [.init(inputBytes: 1000, outputBytes: 300, completed: 1, busy: 0.75)]),
        DeviceStatus(host: "10.0.0.8:7070", device: "sim0", kind: "simulated", problem: "unreachable: refused"),
    ]

    static func start(status: StatusProvider?) async throws -> MetricsServer {
        try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), checks: [], title: "test cluster",
            status: status, now: { Date(timeIntervalSince1970: 0) })
    }

    @Test func theDashboardAndStatusJSONShowTheProvidedStatuses() async throws {
        let statuses = Self.statuses
        let server = try await Self.start(status: { statuses })
        let base = "http://\(server.address)"
        let page = try await HTTPProbe.request("GET", base + "/")
        let json = try await HTTPProbe.request("GET", base + "/status.json")
        let metrics = try await HTTPProbe.request("GET", base + "/metrics")
        let health = try await HTTPProbe.request("GET", base + "/health")
        await server.stop()

        #expect(page.status == 200)
        #expect(page.contentType == "text/html; charset=utf-8")
        #expect(
            page.body == Dashboard.html(title: "test cluster", statuses: statuses, time: Date(timeIntervalSince1970: 0))
        )
        #expect(page.body.contains("data-device=\"10.0.0.7:7070/sim0\""))
        #expect(page.body.contains("data-device=\"10.0.0.8:7070/sim0\""))

        #expect(json.status == 200)
        #expect(json.contentType == "application/json")
        #expect(try JSONDecoder().decode([DeviceStatus].self, from: Data(json.body.utf8)) == statuses)
        // Sorted keys: a diff of two snapshots shows what changed, not a reordering.
        #expect(json.body.hasPrefix("[{\"busySeconds\":1.5,\"completed\":3,\"computeUnits\":1,\"device\":\"sim0\""))

        // The other paths are as they were.
        #expect(metrics.status == 200)
        #expect(health.body == "ok\n")
    }

    @Test func theStatusJSONFollowsALocalNodesRuns() async throws {
        let node = LocalNode(device: SimulatedDevice(name: "sim0", kernels: ProgramLibrary.builtInKernels))
        let server = try await Self.start(status: { [await node.status(host: "here")] })
        let url = "http://\(server.address)/status.json"
        let before = try JSONDecoder().decode(
            [DeviceStatus].self, from: Data(try await HTTPProbe.request("GET", url).body.utf8))
        _ = try await node.run(GzipCompressionJob(chunkSize: 4096), ArraySlice(TestData.logLines(count: 50)))
        let after = try JSONDecoder().decode(
            [DeviceStatus].self, from: Data(try await HTTPProbe.request("GET", url).body.utf8))
        await server.stop()
        #expect(before.map(\.completed) == [0])
        #expect(after.map(\.completed) == [1])
        #expect(after.first?.host == "here")
        #expect(after.first?.device == "sim0")
        #expect(after.first?.program == "gzip")
    }

    @Test func withoutAProviderTheDashboardPathsAreNotFound() async throws {
        let server = try await Self.start(status: nil)
        let base = "http://\(server.address)"
        #expect(try await HTTPProbe.request("GET", base + "/").status == 404)
        #expect(try await HTTPProbe.request("GET", base + "/status.json").status == 404)
        #expect(try await HTTPProbe.request("GET", base + "/health").status == 200)
        await server.stop()
    }

    @Test(arguments: ["/", "/status.json"])
    func otherMethodsAreTurnedAway(path: String) async throws {
        let statuses = Self.statuses
        let server = try await Self.start(status: { statuses })
        let base = "http://\(server.address)"
        #expect(try await HTTPProbe.request("POST", base + path).status == 405)
        #expect(try await HTTPProbe.request("PUT", base + path).status == 405)
        let head = try await HTTPProbe.rawStatusLine(
            host: server.host, port: server.port, sending: "HEAD \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 405"))
        #expect(try await HTTPProbe.request("GET", base + path + "x").status == 404)
        await server.stop()
    }
}
