import FPGACluster
import FPGADevice
import FPGATestSupport
import Testing

@Suite("load balancing")
struct LoadBalancingTests {
    @Test func fasterDeviceTakesMoreChunksAndOutputIsUnchanged() async throws {
        let data = TestData.logLines(count: 64 * 16384)
        let settings = Cluster.Configuration(chunkSize: 16384)
        // A card at 1 MB/s per compute unit with 20 ms per run (36 ms a chunk, whatever the
        // load), beside an unthrottled one (well under a millisecond a chunk, a few even on a
        // machine busy with other builds).
        let slow = SimulatedDevice(
            name: "slow", kernels: ProgramLibrary.builtInKernels,
            timing: TimingModel(latency: .milliseconds(20), unitsPerSecond: 1e6))
        let fast = SimulatedDevice(name: "fast", kernels: ProgramLibrary.builtInKernels)
        let cluster = try Cluster(devices: [slow, fast], configuration: settings)
        let gz = try await cluster.compress(data)

        let slowChunks = await cluster.nodes[0].completed["gzip"] ?? 0
        let fastChunks = await cluster.nodes[1].completed["gzip"] ?? 0
        #expect(slowChunks + fastChunks == 64)
        #expect(fastChunks > slowChunks, "fast \(fastChunks), slow \(slowChunks)")

        let single = try Cluster(devices: .simulated(count: 1), configuration: settings)
        try await expectSameMembers(gz, try await single.compress(data))
    }

    @Test func everyDeviceHelpsWhenTheyAreEqual() async throws {
        let data = TestData.logLines(count: 48 * 8192)
        let timing = TimingModel(latency: .milliseconds(2), unitsPerSecond: 50e6)
        let cluster = try Cluster(
            devices: .simulated(count: 3, timing: timing), configuration: .init(chunkSize: 8192))
        _ = try await cluster.compress(data)
        for node in cluster.nodes {
            let done = await node.completed["gzip"] ?? 0
            #expect(done > 0, "\(node.name) ran no chunk")
        }
    }
}
