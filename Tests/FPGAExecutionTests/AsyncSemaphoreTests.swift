import FPGAExecution
import FPGATestSync
import Testing

/// Tries to take a permit, giving up after `timeout`. Returns whether it got one.
///
/// Only for negative checks ("no permit is free"): a short timeout there can only make a
/// broken semaphore pass, never a correct one fail. A permit that should be free is taken
/// with `acquire()` itself; the suite's time limit ends the wait if it never comes.
private func acquire(_ semaphore: AsyncSemaphore, within timeout: Duration) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await semaphore.acquire()
            return true
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return false
        }
        let first = try await group.next()!
        group.cancelAll()
        return first
    }
}

@Suite("AsyncSemaphore", .timeLimit(stuckTestLimit))
struct AsyncSemaphoreTests {
    @Test("permits are handed out up to the count")
    func handsOutPermits() async throws {
        let semaphore = AsyncSemaphore(permits: 2)
        try await semaphore.acquire()
        try await semaphore.acquire()
        #expect(try await !acquire(semaphore, within: .milliseconds(100)), "a third permit was handed out")
        semaphore.release()
        try await semaphore.acquire()
    }

    @Test("release without waiters adds a permit")
    func releaseAddsPermit() async throws {
        let semaphore = AsyncSemaphore(permits: 0)
        semaphore.release()
        try await semaphore.acquire()
        #expect(try await !acquire(semaphore, within: .milliseconds(100)))
    }

    @Test("at most `permits` holders at once", arguments: [1, 3])
    func limitsConcurrency(permits: Int) async throws {
        let semaphore = AsyncSemaphore(permits: permits)
        let tracker = ConcurrencyTracker()
        let full = AsyncLatch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await semaphore.acquire()
                    if tracker.enter() == permits { full.open() }
                    // The first holders stay until all permits are taken, so any extra
                    // holder a broken semaphore let in would be counted.
                    await full.wait()
                    for _ in 0..<5 { await Task.yield() }
                    tracker.leave()
                    semaphore.release()
                }
            }
            try await group.waitForAll()
        }
        #expect(tracker.maximum == permits)
        #expect(tracker.current == 0)
    }

    @Test("a release wakes a waiter")
    func releaseWakesWaiter() async throws {
        let semaphore = AsyncSemaphore(permits: 0)
        let acquired = Flag()
        let waiter = Task {
            try await semaphore.acquire()
            acquired.set()
        }
        semaphore.release()
        try await waiter.value
        #expect(acquired.isSet)
        #expect(try await !acquire(semaphore, within: .milliseconds(100)), "the woken waiter's permit was also kept")
    }

    @Test("an already cancelled task throws CancellationError and takes no permit")
    func cancelledBeforeAcquire() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await semaphore.acquire()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        try await semaphore.acquire()
    }

    /// `yields` varies how far the waiter gets before the cancellation arrives (before or
    /// after it is queued), so both cancellation paths run.
    @Test("a waiter cancelled while waiting throws CancellationError and takes no permit", arguments: [0, 1, 20, 200])
    func cancelledWhileWaiting(yields: Int) async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()

        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let waiter = Task {
            startedContinuation.yield()
            try await semaphore.acquire()
        }
        for await _ in started { break }
        for _ in 0..<yields { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }

        // The permit we hold goes back; the cancelled waiter must not swallow it.
        semaphore.release()
        // Hangs until the suite's time limit if the cancelled waiter consumed the permit.
        try await semaphore.acquire()
        #expect(try await !acquire(semaphore, within: .milliseconds(100)), "cancellation created a permit")
    }

    @Test("cancelling one waiter leaves the others queued")
    func cancellingOneWaiterKeepsOthers() async throws {
        let semaphore = AsyncSemaphore(permits: 0)
        let cancelled = Task { try await semaphore.acquire() }
        let kept = Task { try await semaphore.acquire() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        semaphore.release()
        try await kept.value
        #expect(try await !acquire(semaphore, within: .milliseconds(100)))
    }
}
