import FPGAExecution
import FPGATestSync
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

private struct PoolError: Error, Equatable {
    var code: Int
}

@Suite("BlockingThreadPool")
struct BlockingThreadPoolTests {
    @Test("run returns the closure's result, computed on a pool thread")
    func runsWorkOnPoolThread() async throws {
        let pool = BlockingThreadPool(name: "pool-a", threads: 2)
        #expect(pool.threadCount == 2)
        let (value, thread) = try await pool.run { (21 * 2, currentThreadName()) }
        #expect(value == 42)
        #expect(thread == "pool-a-0" || thread == "pool-a-1")
    }

    @Test("a task that prefers the pool runs on its threads, and its run calls run in place")
    func taskExecutorPreference() async throws {
        let pool = BlockingThreadPool(name: "pool-pref", threads: 2)
        let other = BlockingThreadPool(name: "pool-other", threads: 1)
        // A task (a lane of the scheduler is a child task) that prefers the pool starts on it.
        let threads = Task(executorPreference: pool) {
            let task = pthread_self()
            let name = currentThreadName()
            let inPlace = try await pool.run { (pthread_self(), currentThreadName()) }
            let elsewhere = try await other.run { (pthread_self(), currentThreadName()) }
            return (task, name, inPlace, elsewhere)
        }
        let (task, name, inPlace, elsewhere) = try await threads.value
        #expect(name == "pool-pref-0" || name == "pool-pref-1")
        // The work ran on the thread the task was on: no hop to another thread and back.
        #expect(inPlace.0 == task)
        #expect(inPlace.1 == name)
        // Another pool's work still goes to that pool.
        #expect(elsewhere.1 == "pool-other-0")
        #expect(elsewhere.0 != task)
    }

    @Test("run in place still skips work when the task is already cancelled")
    func inPlaceSkipsWorkWhenCancelled() async throws {
        let pool = BlockingThreadPool(name: "pool-pref-c", threads: 1)
        let ran = Flag()
        let task = Task(executorPreference: pool) {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { ran.set() }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!ran.isSet)
    }

    @Test("run rethrows the closure's error")
    func propagatesErrors() async {
        let pool = BlockingThreadPool(name: "pool-err", threads: 1)
        await #expect(throws: PoolError(code: 7)) {
            try await pool.run { () throws -> Int in throw PoolError(code: 7) }
        }
        // The thread survives a throwing job.
        let next = try? await pool.run { 5 }
        #expect(next == 5)
    }

    @Test("work is skipped when the task is already cancelled")
    func skipsWorkWhenCancelled() async throws {
        let pool = BlockingThreadPool(name: "pool-cancel", threads: 1)
        let ran = Flag()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { ran.set() }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        // One thread taking work in order: once this job has run, any job queued
        // before it has run too.
        try await pool.run {}
        #expect(!ran.isSet, "the cancelled task's work ran anyway")
    }

    @Test("work started before cancellation runs to completion")
    func startedWorkCompletes() async throws {
        let pool = BlockingThreadPool(name: "pool-started", threads: 1)
        let barrier = ThreadBarrier(parties: 2)
        let task = Task {
            try await pool.run { () -> Bool in
                _ = barrier.arriveAndWait()
                return true
            }
        }
        // Wait (off the cooperative pool) until the job is running, then cancel.
        let started = try await BlockingThreadPool(name: "pool-helper", threads: 1).run {
            barrier.arriveAndWait()
        }
        #expect(started)
        task.cancel()
        #expect(try await task.value)
    }

    @Test("a pool runs as many jobs at once as it has threads")
    func runsJobsInParallel() async throws {
        // Three threads even on a two-core machine: blocking work is what the pool is for.
        let pool = BlockingThreadPool(name: "pool-par", threads: 3)
        let barrier = ThreadBarrier(parties: 3)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<3 {
                group.addTask { try await pool.run { barrier.arriveAndWait() } }
            }
            var results: [Bool] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(results == [true, true, true])
    }

    @Test("a pool never runs more jobs at once than it has threads")
    func boundedParallelism() async throws {
        let pool = BlockingThreadPool(name: "pool-bound", threads: 2)
        let tracker = ConcurrencyTracker()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try await pool.run {
                        tracker.enter()
                        blockingSleep(for: .milliseconds(5))
                        tracker.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(tracker.maximum <= 2)
        #expect(tracker.maximum >= 1)
    }

    @Test("submitted work runs on the pool, in submission order")
    func submitRunsInOrder() async throws {
        let pool = BlockingThreadPool(name: "pool-fifo", threads: 1)
        let log = SharedLog<Int>()
        let names = SharedLog<String>()
        for index in 0..<100 {
            pool.submit {
                log.append(index)
                names.append(currentThreadName())
            }
        }
        try await pool.run {}
        #expect(log.all == Array(0..<100))
        #expect(Set(names.all) == ["pool-fifo-0"])
    }

    @Test("the threads exit once the pool is released")
    func threadsStopWithPool() async throws {
        do {
            let pool = BlockingThreadPool(name: "pool-stop", threads: 2)
            let barrier = ThreadBarrier(parties: 2)
            // Both threads are running (and named) once both jobs meet.
            _ = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<2 { group.addTask { try await pool.run { barrier.arriveAndWait() } } }
                return try await group.reduce(true) { $0 && $1 }
            }
            #expect(threadCount(named: "pool-stop-0") == 1)
            #expect(threadCount(named: "pool-stop-1") == 1)
        }
        #expect(await eventually { threadCount(named: "pool-stop-0") + threadCount(named: "pool-stop-1") == 0 })
    }

    @Test("the shared pool has one thread per usable core")
    func sharedPoolSize() {
        #expect(ProcessorInfo.activeCores >= 1)
        #expect(BlockingThreadPool.shared.threadCount == ProcessorInfo.activeCores)
    }
}

@Suite("blockingSleep")
struct BlockingSleepTests {
    @Test("sleeps at least the requested time")
    func sleepsLongEnough() {
        let clock = ContinuousClock()
        let elapsed = clock.measure { blockingSleep(for: .milliseconds(60)) }
        #expect(elapsed >= .milliseconds(60))
    }

    @Test("returns for zero or negative durations", .timeLimit(stuckTestLimit))
    func zeroAndNegative() {
        // Returning at all is the check: a negative duration must not become a huge one.
        blockingSleep(for: .zero)
        blockingSleep(for: .seconds(-5))
        blockingSleep(for: .nanoseconds(Int64.min))
    }
}

/// A task executor that runs each job on its own thread and counts the jobs it finished,
/// so a test can tell when a task has run up to its first suspension.
private final class CountingTaskExecutor: TaskExecutor {
    private let pool = BlockingThreadPool(name: "counting-exec", threads: 1)
    private let finished = Atomic<Int>(0)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
            finished.add(1, ordering: .releasing)
        }
    }

    var finishedJobs: Int { finished.load(ordering: .acquiring) }
}

extension BlockingThreadPoolTests {
    @Test("work whose task is cancelled while it waits in the queue is skipped")
    func skipsQueuedWorkWhenCancelled() async throws {
        let pool = BlockingThreadPool(name: "pool-queued", threads: 1)
        // Occupy the only thread until released.
        let gate = ThreadBarrier(parties: 2)
        pool.submit { _ = gate.arriveAndWait() }

        let ran = Flag()
        let executor = CountingTaskExecutor()
        let task = Task(executorPreference: executor) {
            try await pool.run { ran.set() }
        }
        // The task's first job ends when it suspends in `run`, its work queued.
        #expect(await eventually { executor.finishedJobs >= 1 })
        task.cancel()
        _ = gate.arriveAndWait()

        let result = await task.result
        try await pool.run {}
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(!ran.isSet)
    }
}
