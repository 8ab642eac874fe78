import FPGAExecution
import FPGATestSync
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The calling thread's name as the kernel records it (`/proc/thread-self/comm`).
func currentThreadName() -> String {
    readSmallFile("/proc/thread-self/comm") ?? ""
}

/// How many threads of this process are named `name` right now.
///
/// Listing `/proc/self/task` can skip a live thread when another thread exits during the
/// listing (the kernel walks the thread list by position), which happens often when the
/// whole suite runs under load: the list is read until two readings in a row agree.
func threadCount(named name: String) -> Int {
    var previous = threadIDs()
    for _ in 0..<1000 {
        let current = threadIDs()
        if current == previous { break }
        previous = current
    }
    return previous.filter { readSmallFile("/proc/self/task/\($0)/comm") == name }.count
}

/// The ids of this process's threads, as one listing of `/proc/self/task` gives them.
private func threadIDs() -> [String] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var ids: [String] = []
    while let entry = readdir(directory) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if tid.first?.isNumber == true { ids.append(tid) }
    }
    return ids.sorted()
}

private func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    var bytes = buffer[..<count]
    if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
    return String(decoding: bytes, as: UTF8.self)
}

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
