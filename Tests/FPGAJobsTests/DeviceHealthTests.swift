import FPGADevice
import FPGADrivers
import FPGAJobs
import FPGATestSupport
import FPGATestSync
import Testing

/// A local node's health follows its device: a run that fails on the device makes it
/// unhealthy with a one-line reason, a later successful run makes it healthy again, and a
/// job's bad input says nothing about the device.
@Suite("device health of a local node", .timeLimit(stuckTestLimit))
struct DeviceHealthTests {
    static let job = GzipCompressionJob(chunkSize: 4096)
    static let input = ArraySlice(TestData.logLines(count: 100, seed: 3).prefix(4096))

    @Test func aDeviceFailureMakesTheNodeUnhealthyUntilARunSucceeds() async throws {
        let kernel = SwitchableGzipKernel()
        let node = LocalNode(device: SimulatedDevice(name: "sim0", kernels: [kernel]), programs: .builtIn)
        #expect(node.health == .healthy)
        _ = try await node.run(Self.job, Self.input)
        #expect(node.health == .healthy)

        kernel.setFailing(true)
        await #expect(throws: DeviceError.self) { try await node.run(Self.job, Self.input) }
        let reason = try #require(node.health.reason)
        #expect(reason.hasPrefix("sim0: run failed: "))
        #expect(reason.contains("injected failure"))
        #expect(!reason.contains("\n"))
        #expect(!node.health.isHealthy)

        kernel.setFailing(false)
        _ = try await node.run(Self.job, Self.input)
        #expect(node.health == .healthy)
    }

    @Test func aJobsBadInputLeavesTheNodeHealthy() async throws {
        let node = LocalNode(device: SimulatedDevice(name: "sim1", kernels: [SwitchableGzipKernel()]))
        let tooLarge = ArraySlice([UInt8](repeating: 7, count: 8192))
        await #expect(throws: GzipError.self) { try await node.run(Self.job, tooLarge) }
        #expect(node.health == .healthy)
    }

    @Test func aNodeStaysUnhealthyWhileItsDeviceKeepsFailing() async throws {
        let node = LocalNode(device: SimulatedDevice.faulty(name: "faulty1", failingRun: 2))
        _ = try await node.run(Self.job, Self.input)
        #expect(node.health == .healthy)
        for _ in 0..<2 {
            await #expect(throws: DeviceError.self) { try await node.run(Self.job, Self.input) }
            #expect(node.health.reason?.hasPrefix("faulty1: run failed: ") == true)
        }
    }
}
