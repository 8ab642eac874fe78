import CPlatform
import Synchronization

/// A fixed set of dedicated threads for blocking or CPU-heavy work.
///
/// `await pool.run { ... }` runs the closure on one of the pool's threads and resumes the
/// caller with its result, leaving Swift's cooperative pool free. Work is taken in the
/// order it was submitted.
///
/// The pool is also a task executor: a task that prefers it (`addTask(executorPreference:)`)
/// runs its code that is isolated to no actor on the pool's threads, and its `run` calls
/// then run in place, on the thread the task is on, without a hop to another thread and
/// back. Host lanes of the cluster's scheduler do this, so inflating a member costs no
/// thread switch.
public final class BlockingThreadPool: TaskExecutor, Sendable {
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
    /// `CancellationError` is thrown at once; once started it runs to completion and its
    /// result is returned.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        // Already on one of this pool's threads (a task that prefers the pool): run here.
        if queue.isCurrentThreads { return try body() }
        let ticket = WorkTicket<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard ticket.enqueue(continuation) else { return }
                queue.push { ticket.execute(body) }
            }
        } onCancel: {
            ticket.cancel()
        }
    }

    /// Runs a job of a task that prefers this pool, on a pool thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.push { job.runSynchronously(on: executor) }
    }

    /// Queues `body` to run on a pool thread without waiting for it.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        queue.push(body)
    }

    /// The pool shared by the library for CPU-heavy host work, one thread per core.
    public static let shared = BlockingThreadPool(name: "fpga-cpu", threads: ProcessorInfo.activeCores)
}

/// One piece of work on its way through the pool: queued, then started or cancelled,
/// whichever comes first; the continuation is resumed exactly once.
private final class WorkTicket<T: Sendable>: Sendable {
    private enum Phase {
        case created
        case queued(CheckedContinuation<T, any Error>)
        case started
        case cancelled
    }
    private let phase = Mutex(Phase.created)

    /// Records the continuation; false (and the continuation resumed with
    /// `CancellationError`) if cancellation came first.
    func enqueue(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let cancelled = phase.withLock { phase in
            if case .cancelled = phase { return true }
            phase = .queued(continuation)
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Runs `body` unless the work was cancelled while queued.
    func execute(_ body: () throws -> T) {
        let continuation: CheckedContinuation<T, any Error>? = phase.withLock { phase in
            guard case .queued(let continuation) = phase else { return nil }
            phase = .started
            return continuation
        }
        continuation?.resume(with: Result { try body() })
    }

    /// Cancels the work if it has not started.
    func cancel() {
        let continuation: CheckedContinuation<T, any Error>? = phase.withLock { phase in
            switch phase {
            case .created:
                phase = .cancelled
                return nil
            case .queued(let continuation):
                phase = .cancelled
                return continuation
            case .started, .cancelled:
                return nil
            }
        }
        continuation?.resume(throwing: CancellationError())
    }
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

    /// Whether the calling thread is one of those running this queue.
    var isCurrentThreads: Bool { cplatform_thread_tag() == Unmanaged.passUnretained(self).toOpaque() }

    func runLoop() {
        cplatform_set_thread_tag(Unmanaged.passUnretained(self).toOpaque())
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
