import FPGACluster
import FPGADevice
import FPGATestSupport
import FPGATestSync
import MetricsTestKit
import Testing

/// The cluster counts its jobs, by name, and their failures, in the factory its
/// configuration names.
@Suite("cluster metrics", .timeLimit(stuckTestLimit))
struct ClusterMetricsTests {
    static func cluster(devices: [any Device], metrics: TestMetrics) throws -> Cluster {
        var configuration = Cluster.Configuration(chunkSize: 4096)
        configuration.metrics = metrics
        return try Cluster(devices: devices, configuration: configuration)
    }

    @Test func jobsAreCountedByName() async throws {
        let metrics = TestMetrics()
        let cluster = try Self.cluster(devices: .simulated(count: 2), metrics: metrics)
        let data = TestData.logLines(count: 20_000, seed: 4)
        let gz = try await cluster.compress(data)
        #expect(try await cluster.decompress(gz) == data)
        _ = try await cluster.map(GzipCompressionJob(chunkSize: 4096), inputs: [data[0..<100], data[100..<200]])
        _ = try await cluster.map(LocalOnlyGzipJob(), inputs: [data[0..<100]])
        #expect(try metrics.expectCounter("fpgacluster_jobs_started_total", [("job", "gzip")]).totalValue == 2)
        #expect(try metrics.expectCounter("fpgacluster_jobs_started_total", [("job", "gunzip")]).totalValue == 1)
        #expect(
            try metrics.expectCounter("fpgacluster_jobs_started_total", [("job", "LocalOnlyGzipJob")]).totalValue == 1)
        #expect(metrics.counters(label: "fpgacluster_jobs_failed_total").isEmpty)
    }

    @Test func aFailedJobIsCounted() async throws {
        let metrics = TestMetrics()
        let cluster = try Self.cluster(
            devices: [SimulatedDevice.faulty(name: "faulty0", failingRun: 1)], metrics: metrics)
        await #expect(throws: DeviceError.self) {
            _ = try await cluster.compress(TestData.logLines(count: 100, seed: 5))
        }
        #expect(try metrics.expectCounter("fpgacluster_jobs_started_total", [("job", "gzip")]).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_jobs_failed_total", [("job", "gzip")]).totalValue == 1)
    }
}
