import FPGAExecution

/// A gate for dedicated threads (a simulated compute unit's, say): they block at it until
/// a test opens it, or until a generous deadline passes, which turns a test that forgot to
/// open it into a failure instead of a hang.
///
/// Not for tasks on the cooperative pool: use ``AsyncGate`` there.
public final class ThreadGate: Sendable {
    private let lock = ConditionLock()
    private let flag = GateFlag()

    public init() {}

    /// Opens the gate for every waiter, present and future.
    public func open() {
        lock.withLock { flag.isOpen = true }
        lock.broadcast()
    }

    /// Blocks the calling thread until the gate opens; false if `limit` passed first.
    public func wait(limit: Duration = stuckWaitLimit) -> Bool {
        let deadline = ContinuousClock.now + limit
        lock.lock()
        defer { lock.unlock() }
        while !flag.isOpen {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return false }
            lock.wait(for: left)
        }
        return true
    }
}

/// `@unchecked Sendable`: `isOpen` is only touched while the owning gate's lock is held.
private final class GateFlag: @unchecked Sendable {
    var isOpen = false
}
