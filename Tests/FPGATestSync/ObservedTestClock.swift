import Clocks
import Synchronization

/// swift-clocks' `TestClock`, which tests advance by hand, plus the event a test needs
/// before advancing it: who is sleeping on it, until when.
///
/// Code under test fixes its deadlines when it starts waiting (a run's timeout when
/// `wait` is called, a compute unit's modelled end when it takes the run). A test that
/// advanced the clock before that would only move the deadline along, so it first waits
/// (an event, bounded) for the sleeps it expects with ``waitForSleepers(_:)``, then
/// advances: to just before a deadline to see that nothing happened yet, and past it to
/// see that it fired.
///
/// Advance past deadlines, not onto them: a sleep is counted here just before it reaches
/// `TestClock`, and `TestClock` keeps a sleeper whose deadline equals its current time
/// waiting until its next advance, so landing exactly on a deadline races with that
/// sleeper. A sleeper whose deadline is already behind the clock returns at once.
public final class ObservedTestClock: Clock, Sendable {
    public typealias Duration = Swift.Duration
    public typealias Instant = TestClock<Swift.Duration>.Instant

    /// The clock that keeps the time.
    public let base = TestClock<Swift.Duration>()
    private let sleeping = Watched<[Int: Instant]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    public var now: Instant { base.now }
    public var minimumResolution: Duration { .zero }

    /// The time since the clock was created.
    public var elapsed: Duration { Instant().duration(to: base.now) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = nextID.add(1, ordering: .relaxed).newValue
        sleeping.update { $0[id] = deadline }
        defer { sleeping.update { $0[id] = nil } }
        try await base.sleep(until: deadline, tolerance: tolerance)
    }

    /// How many sleeps are pending now.
    public var sleeperCount: Int { sleeping.value.count }

    /// The deadlines of the pending sleeps, as offsets from the clock's creation, earliest first.
    public var deadlines: [Duration] { sleeping.value.values.map { Instant().duration(to: $0) }.sorted() }

    /// Returns once exactly `count` sleeps are pending; throws ``TimeLimitExceeded`` after
    /// `limit` of real time.
    public func waitForSleepers(_ count: Int, limit: Duration = stuckWaitLimit) async throws {
        try await sleeping.wait(until: { $0.count == count }, "\(count) sleeps on the test clock", limit: limit)
    }

    /// Advances the time by `duration`, waking the sleepers whose deadlines it reaches.
    public func advance(by duration: Duration) async {
        await base.advance(by: duration)
    }

    /// Advances the time to `elapsed` since the clock's creation.
    public func advance(toElapsed elapsed: Duration) async {
        await base.advance(to: Instant().advanced(by: elapsed))
    }
}
