/// An injected clock read as durations since a fixed origin, so deadlines are plain
/// `Duration`s: computed once, compared, stored behind a lock, and slept until.
///
/// Time is a dependency: heartbeats, handshakes, deadlines and backoff take an
/// `any Clock<Duration>`, `ContinuousClock` unless a test passes a clock it advances by
/// hand. Every timer sleeps until an absolute deadline computed when its wait begins,
/// never "for" a duration from whenever its task first runs: a test clock advanced past
/// the deadline before that task runs still ends the wait at once.
public struct Timeline: Sendable {
    /// The clock this timeline reads.
    public let clock: any Clock<Duration>
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    /// A timeline whose origin is `clock`'s present instant.
    public init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
        (elapsed, sleeper) = Self.readings(of: clock)
    }

    /// Opens the existential once, so later readings are plain closures over the
    /// concrete clock and its origin instant.
    private static func readings<C: Clock<Duration>>(of clock: C) -> (
        @Sendable () -> Duration, @Sendable (Duration) async throws -> Void
    ) {
        let origin = clock.now
        return (
            { origin.duration(to: clock.now) },
            { try await clock.sleep(until: origin.advanced(by: $0), tolerance: nil) }
        )
    }

    /// The time since the timeline's origin.
    public var now: Duration { elapsed() }

    /// Returns once the clock reaches `deadline` (at once if it has); throws
    /// `CancellationError` if the task is cancelled first.
    public func sleep(until deadline: Duration) async throws {
        try Task.checkCancellation()
        if deadline <= now { return }
        try await sleeper(deadline)
    }
}
