/// An event a dedicated thread can block on until another thread sets it, once.
/// Not for tasks on the cooperative pool: `wait()` blocks its thread.
public final class OneShotEvent: Sendable {
    private let lock = ConditionLock()
    private let flag = FlagBox()

    public init() {}

    /// Sets the event, waking every waiter.
    public func set() {
        lock.withLock { flag.isSet = true }
        lock.broadcast()
    }

    /// Blocks the calling thread until the event is set.
    public func wait() {
        lock.lock()
        while !flag.isSet { lock.wait() }
        lock.unlock()
    }
}

/// `@unchecked Sendable`: `isSet` is only touched while the owning event's lock is held.
private final class FlagBox: @unchecked Sendable {
    var isSet = false
}
