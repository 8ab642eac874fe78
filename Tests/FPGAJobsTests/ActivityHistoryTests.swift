import FPGAJobs
import Testing

/// The one-second buckets a node keeps of its activity: completions land in the second
/// they happen in, busy stretches are split over the seconds they span, and the ring
/// forgets what is older than its length.
@Suite("activity history")
struct ActivityHistoryTests {
    typealias Sample = ActivityHistory.Sample

    @Test func completionsLandInTheirSecondAndOnlyCompleteSecondsAreReported() {
        var history = ActivityHistory(length: 10)
        history.recordCompletion(inputBytes: 100, outputBytes: 40, at: .milliseconds(1_200))
        history.recordCompletion(inputBytes: 50, outputBytes: 10, at: .milliseconds(1_900))
        history.recordCompletion(inputBytes: 7, outputBytes: 1, at: .milliseconds(3_000))
        // At 3.5 s, second 3 is still going on: seconds 0, 1 and 2 are complete.
        #expect(
            history.samples(before: .milliseconds(3_500), count: 3) == [
                .idle, Sample(inputBytes: 150, outputBytes: 50, completed: 2), .idle,
            ])
        #expect(history.samples(before: .seconds(4), count: 1) == [Sample(inputBytes: 7, outputBytes: 1, completed: 1)])
    }

    @Test func aBusyStretchIsSplitOverTheSecondsItSpans() {
        var history = ActivityHistory(length: 10)
        history.recordBusy(from: .milliseconds(500), to: .milliseconds(2_250))
        let samples = history.samples(before: .seconds(3), count: 3)
        #expect(samples.map(\.busy) == [0.5, 1, 0.25])
        #expect(samples.meanBusy == 1.75 / 3)
    }

    @Test func busyTimeNeverExceedsTheWholeSecond() {
        var history = ActivityHistory(length: 4)
        history.recordBusy(from: .zero, to: .milliseconds(800))
        history.recordBusy(from: .milliseconds(600), to: .milliseconds(1_000))
        #expect(history.samples(before: .seconds(1), count: 1).map(\.busy) == [1])
    }

    @Test func theRingForgetsWhatIsOlderThanItsLength() {
        var history = ActivityHistory(length: 3)
        history.recordCompletion(inputBytes: 1, outputBytes: 1, at: .seconds(1))
        history.recordCompletion(inputBytes: 2, outputBytes: 2, at: .seconds(2))
        // Second 5 reuses the bucket of second 2, and seconds 3 and 4 were idle.
        history.recordCompletion(inputBytes: 5, outputBytes: 5, at: .seconds(5))
        #expect(history.samples(before: .seconds(6)).map(\.inputBytes) == [0, 0, 5])
        // Asked further on, with nothing since: idle, not what the ring held before.
        #expect(history.samples(before: .seconds(20)).map(\.inputBytes) == [0, 0, 0])
        // Events too old to keep are dropped.
        history.recordCompletion(inputBytes: 9, outputBytes: 9, at: .seconds(1))
        #expect(history.samples(before: .seconds(6)).map(\.inputBytes) == [0, 0, 5])
    }

    @Test func aLongBusyStretchFillsTheWholeRing() {
        var history = ActivityHistory(length: 5)
        history.recordBusy(from: .zero, to: .seconds(3_600))
        #expect(history.samples(before: .seconds(3_600)).map(\.busy) == [1, 1, 1, 1, 1])
    }

    @Test func ratesAreMeansOverTheSamples() {
        let samples = [Sample(inputBytes: 10, busy: 1), Sample(inputBytes: 30, busy: 0)]
        #expect(samples.inputBytesPerSecond == 20)
        #expect(samples.meanBusy == 0.5)
        #expect([Sample]().inputBytesPerSecond == 0)
    }
}
