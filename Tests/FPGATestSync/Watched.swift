import Synchronization

/// A value changed from any thread (a compute unit's, a task's) that tests wait on until
/// it satisfies a condition: how a test learns that something happened, instead of
/// sleeping for as long as it usually takes.
///
/// Every wait is bounded: it throws ``TimeLimitExceeded`` after a generous limit of real
/// time, and `CancellationError` if the waiting task is cancelled, so an event that never
/// comes fails the test with a message instead of hanging the run. The limit only ends a
/// wait that would otherwise hang; no result depends on it.
public final class Watched<Value: Sendable>: Sendable {
    private struct Watcher {
        let condition: @Sendable (Value) -> Bool
        let continuation: CheckedContinuation<Value, any Error>
        var timer: Task<Void, Never>?
    }
    private struct State {
        var value: Value
        var nextID = 0
        var watchers: [Int: Watcher] = [:]
    }
    private let state: Mutex<State>

    public init(_ value: Value) { state = Mutex(State(value: value)) }

    /// The value now.
    public var value: Value { state.withLock { $0.value } }

    /// Changes the value and wakes the waiters whose condition now holds.
    public func update(_ body: (inout Value) -> Void) {
        let ready = state.withLock { state -> [(CheckedContinuation<Value, any Error>, Value)] in
            body(&state.value)
            let value = state.value
            let ids = state.watchers.filter { $0.value.condition(value) }.map(\.key)
            return ids.compactMap { id in
                guard let watcher = state.watchers.removeValue(forKey: id) else { return nil }
                watcher.timer?.cancel()
                return (watcher.continuation, value)
            }
        }
        for (continuation, value) in ready { continuation.resume(returning: value) }
    }

    /// Returns the value once `condition` holds for it (at once if it already does).
    /// Throws ``TimeLimitExceeded``, naming `what`, if that takes longer than `limit` of
    /// real time.
    @discardableResult
    public func wait(
        until condition: @escaping @Sendable (Value) -> Bool, _ what: String, limit: Duration = stuckWaitLimit
    ) async throws -> Value {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let ready: Result<Value, any Error>? = state.withLock { state in
                    if condition(state.value) { return .success(state.value) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.watchers[id] = Watcher(condition: condition, continuation: continuation)
                    return nil
                }
                if let ready {
                    continuation.resume(with: ready)
                    return
                }
                let timer = Task { [self] in
                    guard (try? await Task.sleep(for: limit)) != nil else { return }
                    self.resume(id, with: .failure(TimeLimitExceeded(what: what, limit: limit)))
                }
                state.withLock { state in
                    if state.watchers[id] != nil { state.watchers[id]?.timer = timer } else { timer.cancel() }
                }
            }
        } onCancel: {
            resume(id, with: .failure(CancellationError()))
        }
    }

    private func resume(_ id: Int, with result: Result<Value, any Error>) {
        let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
        watcher?.timer?.cancel()
        watcher?.continuation.resume(with: result)
    }
}

/// A wait for an event that did not come within its (generous) limit of real time.
public struct TimeLimitExceeded: Error, CustomStringConvertible {
    public var what: String
    public var limit: Duration

    public init(what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    public var description: String { "gave up after \(limit) waiting for \(what)" }
}

/// Runs `body`, cancelling it and throwing ``TimeLimitExceeded`` (naming `what`) if it has
/// not finished after `limit` of real time: the bound on a wait that should end by itself
/// (a run completing once the test clock passes its latency), so that a bug fails the test
/// with a message instead of hanging the run. `body` must honour cancellation.
public func within<T: Sendable>(
    _ what: String, limit: Duration = stuckWaitLimit, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
        group.addTask { .finished(try await body()) }
        group.addTask {
            try await Task.sleep(for: limit)
            return .expired
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        switch first {
        case .finished(let value): return value
        case .expired: throw TimeLimitExceeded(what: what, limit: limit)
        }
    }
}

/// Which of `within`'s two tasks ended first.
private enum Outcome<T: Sendable>: Sendable {
    case finished(T)
    case expired
}

extension Task where Failure == any Error {
    /// The task's result, waited for at most `limit` of real time: past that the task is
    /// cancelled and ``TimeLimitExceeded`` (naming `what`) is thrown. Cancelling the caller
    /// cancels the task too.
    public func boundedValue(_ what: String, limit: Duration = stuckWaitLimit) async throws -> Success {
        try await within(what, limit: limit) {
            try await withTaskCancellationHandler {
                try await self.value
            } onCancel: {
                self.cancel()
            }
        }
    }
}
