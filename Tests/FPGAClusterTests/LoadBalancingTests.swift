import FPGACluster
import FPGADevice
import FPGATestSupport
import FPGATestSync
import Testing

/// What the scheduler guarantees about spreading work, forced with gates instead of
/// timing models: the tests give the same verdict on an idle machine and a loaded one.
@Suite("load balancing", .timeLimit(stuckTestLimit))
struct LoadBalancingTests {
    let settings = Cluster.Configuration(chunkSize: 16384)
    let data = TestData.logLines(count: 64 * 16384)

    @Test func aStuckDeviceDoesNotHoldBackTheOthers() async throws {
        let gate = ThreadGate()
        let stuckKernel = GatedGzipKernel(holdingAt: gate)
        let freeKernel = GatedGzipKernel()
        let stuck = SimulatedDevice(name: "stuck", kernels: [stuckKernel])
        let free = SimulatedDevice(name: "free", kernels: [freeKernel])
        let cluster = try Cluster(devices: [stuck, free], configuration: settings)
        let capacity = try await cluster.nodes[1].capacity(for: GzipCompressionJob(chunkSize: settings.chunkSize))
        let job = Task { try await cluster.compress(data) }

        // While the stuck card holds its inputs, the free one goes on taking new ones: at
        // least its own capacity's worth (the window leaves room for that much and more).
        try await stuckKernel.started.wait(untilReaches: 1, "the stuck card to take an input")
        try await freeKernel.finished.wait(untilReaches: capacity, "the free card to keep working")
        #expect(stuckKernel.finished.count == 0)
        gate.open()
        let gz = try await job.value

        let stuckChunks = await cluster.nodes[0].completed["gzip"] ?? 0
        let freeChunks = await cluster.nodes[1].completed["gzip"] ?? 0
        #expect(stuckChunks + freeChunks == 64)
        #expect(freeChunks >= capacity)
        let single = try Cluster(devices: .simulated(count: 1), configuration: settings)
        expectSameBytes(gz, try await single.compress(data))
    }

    @Test func everyDeviceGetsWorkWhileTheOthersAreBusy() async throws {
        // Each card's first run waits until every card has started one: the job can only
        // go on if the scheduler hands work to every card while the others hold theirs.
        let count = 3
        let everyoneBusy = ThreadGate()
        let kernels = (0..<count).map { _ in GatedGzipKernel(holdingAt: everyoneBusy) }
        let devices: [any Device] = kernels.enumerated().map { index, kernel in
            SimulatedDevice(name: "sim\(index)", kernels: [kernel])
        }
        let cluster = try Cluster(devices: devices, configuration: .init(chunkSize: 8192))
        let job = Task { try await cluster.compress(TestData.logLines(count: 48 * 8192)) }
        for (index, kernel) in kernels.enumerated() {
            try await kernel.started.wait(untilReaches: 1, "sim\(index) to start a run")
        }
        everyoneBusy.open()
        _ = try await job.value
        for node in cluster.nodes {
            let done = await node.completed["gzip"] ?? 0
            #expect(done > 0, "\(node.name) ran no chunk")
        }
    }
}
