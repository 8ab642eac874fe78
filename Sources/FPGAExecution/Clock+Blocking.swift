import Synchronization

/// An instant on an injected clock: a timeout or a modelled busy time that starts counting
/// when it is created, whenever the waiting for it begins.
///
/// Code that measures time takes its clock as a dependency (`any Clock<Duration>`, by
/// default `ContinuousClock()`), so that a test can pass a clock it advances by hand and
/// assert on what happens before and after an instant instead of on elapsed wall time. A
/// `ClockDeadline` keeps the clock and the instant together behind one concrete type, so
/// callers holding an existential clock need not open it.
///
/// It can be waited for three ways: ``sleep()`` suspends a task; ``blockingWait()``
/// blocks a dedicated thread (a simulated compute unit modelling hardware time); and
/// ``wait(on:until:)`` blocks a dedicated thread on a condition until the condition holds
/// or the deadline passes. The blocking forms never block a task of the cooperative pool
/// on anything but a short lock: on a clock other than `ContinuousClock` they start a task
/// that sleeps on the clock and wakes the blocked thread when the clock says so.
///
/// The instant is fixed when the deadline is created: with a test clock, create it (start
/// the wait) before advancing the clock. A test clock that suspends a sleeper whose
/// instant equals its current time until its next advance (swift-clocks' `TestClock`
/// does) should be advanced past deadlines, not onto them.
public struct ClockDeadline: Sendable {
    private let base: any ClockDeadlineBase

    /// The instant `duration` after the clock's current time.
    public init(after duration: Duration, on clock: any Clock<Duration>) {
        base = Self.make(clock, after: duration)
    }

    /// The clock's current time.
    public static func now(on clock: any Clock<Duration>) -> ClockDeadline {
        ClockDeadline(after: .zero, on: clock)
    }

    private init(base: any ClockDeadlineBase) { self.base = base }

    private static func make<C: Clock<Duration>>(_ clock: C, after duration: Duration) -> any ClockDeadlineBase {
        InstantOnClock(clock: clock, instant: clock.now.advanced(by: duration))
    }

    /// The instant `duration` after this one, on the same clock.
    public func advanced(by duration: Duration) -> ClockDeadline {
        ClockDeadline(base: base.advanced(by: duration))
    }

    /// True once the clock's time is at or after the instant.
    public var hasPassed: Bool { base.hasPassed }

    /// Suspends until the clock reaches the instant. Throws `CancellationError` if the task
    /// is cancelled first.
    public func sleep() async throws {
        try await base.sleep()
    }

    /// Blocks the calling thread until the clock reaches the instant.
    ///
    /// Only for dedicated threads (``startDedicatedThread(name:_:)``, ``BlockingThreadPool``),
    /// never for tasks on the cooperative pool. On `ContinuousClock` the thread sleeps in
    /// the kernel; on any other clock a task sleeps on the clock and wakes the thread.
    public func blockingWait() {
        guard !base.hasPassed else { return }
        if let remaining = base.continuousTimeLeft {
            blockingSleep(for: remaining)
            return
        }
        let woken = OneShotEvent()
        Task { [base] in
            // Nothing cancels this task; should the clock throw anyway, the thread goes on.
            try? await base.sleep()
            woken.set()
        }
        woken.wait()
    }

    /// Blocks the calling thread, which holds `lock`, until `condition` holds or the clock
    /// reaches the instant, whichever comes first; returns whether `condition` holds.
    ///
    /// `condition` is evaluated with `lock` held; whoever makes it true must signal or
    /// broadcast `lock` after changing its state under the lock. Only for dedicated
    /// threads, never for tasks on the cooperative pool.
    public func wait(on lock: ConditionLock, until condition: () -> Bool) -> Bool {
        if condition() { return true }
        if base.continuousTimeLeft != nil {
            // The kernel's timed wait; the remaining time is rechecked after every wakeup.
            while !condition() {
                guard let left = base.continuousTimeLeft, left > .zero else { return false }
                lock.wait(for: left)
            }
            return true
        }
        let alarm = Alarm()
        let timer = Task { [base] in
            do { try await base.sleep() } catch { return }
            // Set under the lock, so the waiter cannot miss it between its check and its wait.
            lock.withLock { alarm.fired.store(true, ordering: .relaxed) }
            lock.broadcast()
        }
        defer { timer.cancel() }
        while !condition() {
            if alarm.fired.load(ordering: .relaxed) || base.hasPassed { return false }
            lock.wait()
        }
        return true
    }
}

/// Set by the task sleeping on the clock, under the waiter's lock.
private final class Alarm: Sendable {
    let fired = Atomic<Bool>(false)
}

/// One clock and one of its instants, with the clock's concrete type.
private protocol ClockDeadlineBase: Sendable {
    var hasPassed: Bool { get }
    /// The time left on `ContinuousClock` (zero once passed); nil on any other clock.
    var continuousTimeLeft: Duration? { get }
    func advanced(by duration: Duration) -> any ClockDeadlineBase
    func sleep() async throws
}

private struct InstantOnClock<C: Clock<Duration>>: ClockDeadlineBase {
    let clock: C
    let instant: C.Instant

    var hasPassed: Bool { clock.now >= instant }

    var continuousTimeLeft: Duration? {
        guard C.self == ContinuousClock.self, let instant = instant as? ContinuousClock.Instant else { return nil }
        return max(.zero, instant - ContinuousClock.now)
    }

    func advanced(by duration: Duration) -> any ClockDeadlineBase {
        InstantOnClock(clock: clock, instant: instant.advanced(by: duration))
    }

    func sleep() async throws {
        try await clock.sleep(until: instant, tolerance: nil)
    }
}
