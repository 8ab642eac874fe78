import Clocks
import FPGACluster
import FPGAMetricsServer
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Prometheus
import Testing

/// A metrics server runs apart from a worker server's data port: stopping it leaves the data
/// port serving runs.
@Suite("a metrics server beside the data port", .timeLimit(stuckTestLimit))
struct MetricsBesideDataPortTests {
    @Test func stoppingTheMetricsServerLeavesTheDataPortServing() async throws {
        try await InProcessServer.with { server in
            let metrics = try await MetricsServer.start(
                host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), checks: [])
            #expect(try await HTTPProbe.request("GET", "http://\(metrics.address)/health").body == "ok\n")
            await metrics.stop()

            let remote = WorkerConnection(endpoint: server.endpoint, token: nil, settings: .onTestClock(TestClock()))
            _ = try await withDeadline(stuckWaitLimit, "connect() to the in-process worker") {
                try await remote.connect()
            }
            let node = RemoteNode(connection: remote, deviceIndex: 0, name: "\(server.endpoint)/sim0")
            let input = ArraySlice(Array(repeating: Array("the same line\n".utf8), count: 1000).joined())
            let member = try await withDeadline(stuckWaitLimit, "a gzip run after the metrics server stopped") {
                try await node.run(GzipCompressionJob(chunkSize: 1 << 20), input)
            }
            #expect(try await ExternalTools.gzipDecompress(Array(member)) == Array(input))
            await remote.disconnect()
        }
    }
}
