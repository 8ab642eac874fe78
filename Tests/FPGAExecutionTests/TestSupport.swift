import FPGAExecution
import FPGATestSync
import Synchronization

/// The calling thread's name as the kernel records it (`/proc/thread-self/comm`).
func currentThreadName() -> String { ProcessThreads.currentName }

/// How many threads of this process are named `name` right now.
func threadCount(named name: String) -> Int { ProcessThreads.count { $0 == name } }

/// Counts how many parties are inside a region at once, and the most there ever were.
final class ConcurrencyTracker: Sendable {
    private struct State {
        var current = 0
        var maximum = 0
    }
    private let state = Mutex(State())

    /// Enters the region; returns how many are inside now, this caller included.
    @discardableResult
    func enter() -> Int {
        state.withLock { state in
            state.current += 1
            state.maximum = max(state.maximum, state.current)
            return state.current
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }

    var maximum: Int { state.withLock { $0.maximum } }
    var current: Int { state.withLock { $0.current } }
}

/// A one-shot gate for tasks: `wait()` suspends until `open()` is called.
final class AsyncLatch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

/// A flag set from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// A list appended to from any thread.
final class SharedLog<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}
