import Clocks
import FPGADevice
import FPGAJobs
import FPGATestSupport
import FPGATestSync
import MetricsTestKit
import Testing

/// A local node counts every run in its device's metrics, through the factory it was given
/// and on the clock it was given: a test holds a run at a gate and moves the clock, so the
/// durations it reads are exact whatever the load on the machine.
@Suite("device metrics of a local node", .timeLimit(stuckTestLimit))
struct DeviceMetricsTests {
    static let job = GzipCompressionJob(chunkSize: 4096)

    static func dimensions(_ device: String) -> [(String, String)] {
        [("device", device), ("kind", "simulated"), ("program", "gzip")]
    }

    @Test func aHeldRunIsCountedAndTimedOnTheNodesClock() async throws {
        let metrics = TestMetrics()
        let clock = TestClock()
        let gate = ThreadGate()
        let kernel = GatedGzipKernel(holdingAt: gate)
        let node = LocalNode(
            device: SimulatedDevice(name: "held0", kernels: [kernel]), programs: .builtIn, metrics: metrics,
            clock: clock)
        let input = ArraySlice(TestData.logLines(count: 3000, seed: 1))
        let run = Task { try await node.run(Self.job, input) }
        try await kernel.started.wait(untilReaches: 1, "the held run to reach the kernel")
        let dimensions = Self.dimensions("held0")
        #expect(try metrics.expectCounter("fpgacluster_device_runs_started_total", dimensions).totalValue == 1)
        #expect(try metrics.expectMeter("fpgacluster_device_runs_in_flight", dimensions).lastValue == 1)

        await clock.advance(by: .seconds(3))
        gate.open()
        let member = try await run.value

        #expect(try metrics.expectCounter("fpgacluster_device_runs_completed_total", dimensions).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_device_runs_failed_total", dimensions).totalValue == 0)
        #expect(
            try metrics.expectCounter("fpgacluster_device_input_bytes_total", dimensions).totalValue
                == Int64(input.count))
        #expect(
            try metrics.expectCounter("fpgacluster_device_output_bytes_total", dimensions).totalValue
                == Int64(member.count))
        #expect(
            try metrics.expectTimer("fpgacluster_device_run_duration_seconds", dimensions).values == [3_000_000_000])
        #expect(try metrics.expectCounter("fpgacluster_device_busy_seconds_total", dimensions).totalValue == 3)
        #expect(try metrics.expectMeter("fpgacluster_device_runs_in_flight", dimensions).lastValue == 0)
    }

    @Test func overlappingRunsCountTheBusyTimeOnce() async throws {
        let metrics = TestMetrics()
        let clock = TestClock()
        let gate = ThreadGate()
        let kernel = GatedGzipKernel(holdingAt: gate)
        let node = LocalNode(
            device: SimulatedDevice(name: "held1", kernels: [kernel]), programs: .builtIn, metrics: metrics,
            clock: clock)
        let input = ArraySlice(TestData.logLines(count: 1000, seed: 2))
        // Three inputs in the driver at once: some run on a compute unit, held at the gate,
        // the others wait for one (which unit the driver picks is its own business).
        let runs = (0..<3).map { _ in Task { try await node.run(Self.job, input) } }
        try await kernel.started.wait(untilReaches: 1, "a held run to reach the kernel")
        let allIn = try await eventually {
            try metrics.expectMeter("fpgacluster_device_runs_in_flight", Self.dimensions("held1")).lastValue == 3
        }
        try #require(allIn, "three inputs in the driver")
        await clock.advance(by: .seconds(2))
        gate.open()
        for run in runs { _ = try await run.value }
        let dimensions = Self.dimensions("held1")
        #expect(try metrics.expectCounter("fpgacluster_device_runs_completed_total", dimensions).totalValue == 3)
        #expect(try metrics.expectCounter("fpgacluster_device_busy_seconds_total", dimensions).totalValue == 2)
        #expect(
            try metrics.expectTimer("fpgacluster_device_run_duration_seconds", dimensions).values
                == Array(repeating: 2_000_000_000, count: 3))
    }

    @Test func aFailedRunIsCountedAsFailed() async throws {
        let metrics = TestMetrics()
        let node = LocalNode(
            device: SimulatedDevice.faulty(name: "faulty0", failingRun: 2), programs: .builtIn, metrics: metrics)
        let input = ArraySlice(TestData.logLines(count: 500, seed: 3))
        _ = try await node.run(Self.job, input)
        await #expect(throws: DeviceError.self) { _ = try await node.run(Self.job, input) }
        let dimensions = Self.dimensions("faulty0")
        #expect(try metrics.expectCounter("fpgacluster_device_runs_started_total", dimensions).totalValue == 2)
        #expect(try metrics.expectCounter("fpgacluster_device_runs_completed_total", dimensions).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_device_runs_failed_total", dimensions).totalValue == 1)
        #expect(try metrics.expectMeter("fpgacluster_device_runs_in_flight", dimensions).lastValue == 0)
        #expect(await node.completed == ["gzip": 1])
    }
}
