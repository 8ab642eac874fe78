import Clocks
import FPGADevice
import FPGAJobs
import FPGATestSupport
import FPGATestSync
import MetricsTestKit
import Testing

/// A local node's status: what it runs and queues now, its totals, and its activity per
/// second, read on the node's injected clock.
@Suite("device status of a local node", .timeLimit(stuckTestLimit))
struct DeviceStatusTests {
    static let job = GzipCompressionJob(chunkSize: 4096)

    @Test func anIdleNodeReportsNothingLoadedAndNoActivity() async {
        let node = LocalNode(
            device: SimulatedDevice(name: "idle0", kernels: ProgramLibrary.builtInKernels), metrics: TestMetrics(),
            clock: TestClock())
        let status = await node.status(host: "h1", seconds: 10)
        #expect(status.host == "h1")
        #expect(status.device == "idle0")
        #expect(status.kind == "simulated")
        #expect(status.program == nil)
        #expect(status.computeUnits == 0)
        #expect(status.running == 0 && status.queued == 0 && status.completed == 0)
        #expect(status.problem == nil)
        #expect(status.history == Array(repeating: ActivityHistory.Sample.idle, count: 10))
    }

    @Test func aHeldRunIsRunningAndBusyUntilItCompletes() async throws {
        let clock = TestClock()
        let gate = ThreadGate()
        let kernel = GatedGzipKernel(holdingAt: gate)
        let node = LocalNode(
            device: SimulatedDevice(name: "held2", kernels: [kernel]), metrics: TestMetrics(), clock: clock)
        let input = ArraySlice(TestData.logLines(count: 2000, seed: 4))
        let run = Task { try await node.run(Self.job, input) }
        try await kernel.started.wait(untilReaches: 1, "the held run to reach the kernel")

        await clock.advance(by: .seconds(2))
        let during = await node.status(host: "h", seconds: 2)
        #expect(during.program == "gzip")
        let units = ProgramLibrary.builtIn.programs["gzip"]?.kernels.reduce(0) { $0 + $1.computeUnits.count }
        #expect(during.computeUnits == units)
        #expect(during.running == 1 && during.queued == 0)
        #expect(during.completed == 0)
        // Busy through both complete seconds, though the run has not ended.
        #expect(during.history.map(\.busy) == [1, 1])
        #expect(during.busySeconds == 2)

        gate.open()
        let member = try await run.value
        await clock.advance(by: .seconds(1))
        let after = await node.status(host: "h", seconds: 3)
        #expect(after.running == 0)
        #expect(after.completed == 1 && after.failed == 0)
        #expect(after.inputBytes == UInt64(input.count))
        #expect(after.outputBytes == UInt64(member.count))
        #expect(after.busySeconds == 2)
        // The run completed in second 2 (at 2 s on the clock).
        #expect(after.history.map(\.completed) == [0, 0, 1])
        #expect(after.history.last?.inputBytes == UInt64(input.count))
    }

    @Test func aFailedRunIsCountedAndNamesTheProblem() async throws {
        let node = LocalNode(
            device: SimulatedDevice.faulty(name: "faulty1", failingRun: 1), metrics: TestMetrics(), clock: TestClock())
        await #expect(throws: DeviceError.self) {
            _ = try await node.run(Self.job, ArraySlice(TestData.logLines(count: 100, seed: 5)))
        }
        let status = await node.status(host: "h")
        #expect(status.failed == 1 && status.completed == 0)
        #expect(status.problem?.hasPrefix("faulty1: run failed") == true)
    }
}
