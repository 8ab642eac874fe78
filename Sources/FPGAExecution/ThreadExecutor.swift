import Synchronization

/// A serial executor backed by one dedicated thread.
///
/// Give an actor its own thread by returning the executor's
/// `asUnownedSerialExecutor()` from the actor's `unownedExecutor`. Everything the actor
/// does then runs on that thread, so a blocking call inside the actor (a device wait, a
/// `read(2)` of a large file) stalls only that actor and never Swift's cooperative pool.
///
/// The thread lives as long as the executor: it stops when the last reference to the
/// executor goes away and its queue has drained.
public final class ThreadExecutor: SerialExecutor, Sendable {
    private let queue: JobQueue

    /// Starts the thread. `name` is shown by `top -H` and debuggers (first 15 bytes).
    public init(name: String) {
        queue = JobQueue()
        let queue = self.queue
        startDedicatedThread(name: name) { queue.runLoop() }
    }

    deinit { queue.stop() }

    public func enqueue(_ job: consuming ExecutorJob) {
        queue.push(UnownedJob(job), executor: asUnownedSerialExecutor())
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: ThreadExecutor) -> Bool {
        self === other
    }
}

/// The queue between `enqueue` (any thread) and the executor's own thread.
///
/// `@unchecked Sendable`: `jobs` and `stopped` are only touched while `lock` is held.
private final class JobQueue: @unchecked Sendable {
    private let lock = ConditionLock()
    private var jobs: [(UnownedJob, UnownedSerialExecutor)] = []
    private var head = 0
    private var stopped = false

    func push(_ job: UnownedJob, executor: UnownedSerialExecutor) {
        lock.withLock { jobs.append((job, executor)) }
        lock.signal()
    }

    func stop() {
        lock.withLock { stopped = true }
        lock.signal()
    }

    func runLoop() {
        while true {
            lock.lock()
            while head == jobs.count && !stopped { lock.wait() }
            if head == jobs.count {
                lock.unlock()
                return
            }
            let (job, executor) = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            lock.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
