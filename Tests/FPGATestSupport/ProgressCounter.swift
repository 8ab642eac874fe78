import FPGATestSync
import Synchronization

/// A count that only grows, reported by one task (a sender, say) and awaited by another,
/// which can tell growth from silence and from the reporter's end.
public final class ProgressCounter: Sendable {
    /// What a wait saw.
    public enum Wait: Sendable, Equatable {
        /// The count grew past the mark.
        case advanced
        /// The count did not grow for the whole timeout.
        case quiet
        /// The reporter ended (``end()``) first.
        case ended
    }

    private struct State {
        var count = 0
        var ended = false
        var nextID = 0
        var waiters: [(id: Int, beyond: Int, continuation: CheckedContinuation<Wait, Never>)] = []
    }
    private let state = Mutex(State())

    public init() {}

    public var count: Int { state.withLock { $0.count } }

    /// Raises the count to `count` (never lowers it).
    public func advance(to count: Int) {
        let ready = state.withLock { state in
            state.count = max(state.count, count)
            let ready = state.waiters.filter { $0.beyond < state.count }
            state.waiters.removeAll { $0.beyond < state.count }
            return ready.map(\.continuation)
        }
        for waiter in ready { waiter.resume(returning: .advanced) }
    }

    /// Says the count will not grow again.
    public func end() {
        let waiters = state.withLock { state in
            state.ended = true
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: .ended) }
    }

    /// Waits for the count to pass `beyond`, for the reporter to end, or for `timeout`.
    public func wait(beyond: Int, timeout: Duration) async -> Wait {
        await withCheckedContinuation { continuation in
            let registered: Int? = state.withLock { state in
                if state.count > beyond || state.ended { return nil }
                state.nextID += 1
                state.waiters.append((state.nextID, beyond, continuation))
                return state.nextID
            }
            guard let id = registered else {
                continuation.resume(returning: state.withLock { $0.count > beyond } ? .advanced : .ended)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    /// Waits until the count reaches `count`; throws, naming `what`, if the count stands still
    /// for `limit` or the reporter ends first. The limit only ends a wait that would hang: a
    /// loaded machine is slower to get there, never wrong about it.
    public func wait(untilReaches count: Int, _ what: String, limit: Duration = stuckWaitLimit) async throws {
        while self.count < count {
            let seen = self.count
            let outcome = await wait(beyond: seen, timeout: limit)
            if outcome != .advanced && self.count < count {
                throw ToolFailure(
                    "\(what): \(seen) of \(count), then \(outcome == .ended ? "the end" : "nothing for \(limit)")")
            }
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { state in
            state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
        }
        waiter?.resume(returning: .quiet)
    }
}
