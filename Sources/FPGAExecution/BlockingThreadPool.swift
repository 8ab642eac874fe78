/// A fixed set of dedicated threads for blocking or CPU-heavy work.
///
/// `await pool.run { ... }` runs the closure on one of the pool's threads and resumes the
/// caller with its result, leaving Swift's cooperative pool free. Work is taken in the
/// order it was submitted.
public final class BlockingThreadPool: Sendable {
    private let queue: WorkQueue
    /// How many threads run work at once.
    public let threadCount: Int

    public init(name: String, threads: Int) {
        precondition(threads > 0, "a thread pool needs at least one thread")
        threadCount = threads
        queue = WorkQueue()
        for index in 0..<threads {
            let queue = self.queue
            startDedicatedThread(name: "\(name)-\(index)") { queue.runLoop() }
        }
    }

    deinit { queue.stop() }

    /// Runs `body` on a pool thread and returns its result.
    ///
    /// If the calling task is cancelled before the work starts, the work is skipped and
    /// `CancellationError` is thrown; once started it runs to completion.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            queue.push {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Queues `body` to run on a pool thread without waiting for it.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        queue.push(body)
    }

    /// The pool shared by the library for CPU-heavy host work, one thread per core.
    public static let shared = BlockingThreadPool(name: "fpga-cpu", threads: ProcessorInfo.activeCores)
}

/// `@unchecked Sendable`: `work` and `stopped` are only touched while `lock` is held.
private final class WorkQueue: @unchecked Sendable {
    private let lock = ConditionLock()
    private var work: [@Sendable () -> Void] = []
    private var head = 0
    private var stopped = false

    func push(_ item: @escaping @Sendable () -> Void) {
        lock.withLock { work.append(item) }
        lock.signal()
    }

    func stop() {
        lock.withLock { stopped = true }
        lock.broadcast()
    }

    func runLoop() {
        while true {
            lock.lock()
            while head == work.count && !stopped { lock.wait() }
            if head == work.count {
                lock.unlock()
                return
            }
            let item = work[head]
            head += 1
            if head == work.count {
                work.removeAll(keepingCapacity: true)
                head = 0
            }
            lock.unlock()
            item()
        }
    }
}
