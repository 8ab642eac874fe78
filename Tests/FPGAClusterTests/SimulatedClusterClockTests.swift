import FPGACluster
import FPGADevice
import FPGATestSupport
import FPGATestSync
import Testing

/// A cluster of simulated cards whose timing model runs on a clock the test advances.
@Suite("simulated cluster on a test clock", .timeLimit(stuckTestLimit))
struct SimulatedClusterClockTests {
    @Test func aChunkCompletesWhenTheCardsClockSaysSo() async throws {
        let clock = ObservedTestClock()
        // One second a run, whatever the size (the rate is out of the way).
        let timing = TimingModel(latency: .seconds(1), unitsPerSecond: 1e15)
        let cluster = try Cluster(
            devices: .simulated(count: 1, timing: timing, clock: clock), configuration: .init(chunkSize: 4096))
        let data = TestData.logLines(count: 4096)
        let job = Task { try await cluster.compress(data) }

        try await clock.waitForSleepers(1)
        let deadline = try #require(clock.deadlines.first)
        #expect(deadline >= .seconds(1), "the run's modelled end: \(deadline)")
        await clock.advance(by: deadline - .nanoseconds(1))
        #expect(clock.sleeperCount == 1, "the run ended before its modelled second")
        await clock.advance(by: .nanoseconds(2))
        let gz = try await job.value
        #expect(try ExternalTools.zlibDecompress(gz) == data)
    }
}
