import FPGAExecution

/// A barrier for dedicated threads (compute units, pool workers): each party blocks until
/// all `parties` have arrived, or until a generous limit of real time passes (false then),
/// which turns a party that never came into a failure instead of a hang.
///
/// Not for tasks on the cooperative pool: it blocks its thread.
public final class ThreadBarrier: Sendable {
    public let parties: Int
    private let lock = ConditionLock()
    private let count = Counter()

    public init(parties: Int) { self.parties = parties }

    /// Returns whether all parties arrived within `limit`.
    public func arriveAndWait(limit: Duration = stuckWaitLimit) -> Bool {
        let deadline = ContinuousClock.now + limit
        lock.lock()
        defer { lock.unlock() }
        count.value += 1
        lock.broadcast()
        while count.value < parties {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return false }
            lock.wait(for: left)
        }
        return true
    }

    /// `@unchecked Sendable`: `value` is only touched while the barrier's lock is held.
    private final class Counter: @unchecked Sendable {
        var value = 0
    }
}
