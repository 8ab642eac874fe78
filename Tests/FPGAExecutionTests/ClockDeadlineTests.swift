import FPGAExecution
import FPGATestSync
import Testing

/// Runs `body` on a new dedicated thread and records when it has returned.
private func onDedicatedThread(_ name: String, _ body: @escaping @Sendable () -> Bool) -> Watched<Bool?> {
    let result = Watched<Bool?>(nil)
    startDedicatedThread(name: name) {
        let value = body()
        result.update { $0 = value }
    }
    return result
}

@Suite("ClockDeadline", .timeLimit(stuckTestLimit))
struct ClockDeadlineTests {
    @Test("is passed once the clock reaches it, and advanced(by:) moves it along")
    func passes() async {
        let clock = ObservedTestClock()
        let deadline = ClockDeadline(after: .seconds(1), on: clock)
        let later = deadline.advanced(by: .seconds(1))
        #expect(!deadline.hasPassed)
        await clock.advance(by: .seconds(1) - .nanoseconds(1))
        #expect(!deadline.hasPassed)
        await clock.advance(by: .nanoseconds(1))
        #expect(deadline.hasPassed)
        #expect(!later.hasPassed)
        #expect(ClockDeadline.now(on: clock).hasPassed)
    }

    @Test("sleep returns once the clock passes the deadline, and throws when cancelled")
    func sleeps() async throws {
        let clock = ObservedTestClock()
        let deadline = ClockDeadline(after: .seconds(5), on: clock)
        let sleeper = Task { try await deadline.sleep() }
        try await clock.waitForSleepers(1)
        await clock.advance(by: .seconds(5) + .nanoseconds(1))
        try await sleeper.boundedValue("the sleeper")

        let cancelled = Task { try await ClockDeadline(after: .seconds(5), on: clock).sleep() }
        try await clock.waitForSleepers(1)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.boundedValue("the cancelled sleeper") }
        try await clock.waitForSleepers(0)
    }

    @Test("blockingWait holds a dedicated thread until the clock passes the deadline")
    func blocksUntilTheClockSays() async throws {
        let clock = ObservedTestClock()
        let deadline = ClockDeadline(after: .seconds(2), on: clock)
        let done = onDedicatedThread("cd-block") {
            deadline.blockingWait()
            return true
        }
        // The thread's timer task sleeps on the clock.
        try await clock.waitForSleepers(1)
        await clock.advance(by: .seconds(2) - .nanoseconds(1))
        #expect(done.value == nil, "the thread went on before the clock reached the deadline")
        await clock.advance(by: .nanoseconds(2))
        try await done.wait(until: { $0 == true }, "the blocked thread to go on")
    }

    @Test("blockingWait returns at once for a deadline already passed")
    func passedDeadlineDoesNotBlock() async throws {
        let clock = ObservedTestClock()
        let deadline = ClockDeadline(after: .seconds(1), on: clock)
        await clock.advance(by: .seconds(2))
        let done = onDedicatedThread("cd-passed") {
            deadline.blockingWait()
            return true
        }
        try await done.wait(until: { $0 == true }, "the thread to go on")
        #expect(clock.sleeperCount == 0)
    }

    @Test("on ContinuousClock, blockingWait sleeps at least until the deadline")
    func continuousClock() async throws {
        let clock = ContinuousClock()
        let begin = clock.now
        let deadline = ClockDeadline(after: .milliseconds(30), on: clock)
        let done = onDedicatedThread("cd-cont") {
            deadline.blockingWait()
            return deadline.hasPassed
        }
        #expect(try await done.wait(until: { $0 != nil }, "the thread to go on") == true)
        #expect(clock.now - begin >= .milliseconds(30))
    }

    @Test("wait(on:until:) returns true when the condition comes first, false when the clock passes first")
    func waitsOnACondition() async throws {
        let clock = ObservedTestClock()
        let lock = ConditionLock()

        // The condition comes first.
        let flag = SharedFlag()
        let first = onDedicatedThread("cd-cond-1") {
            let deadline = ClockDeadline(after: .seconds(10), on: clock)
            lock.lock()
            defer { lock.unlock() }
            return deadline.wait(on: lock, until: { flag.isSet })
        }
        try await clock.waitForSleepers(1)
        lock.withLock { flag.isSet = true }
        lock.broadcast()
        #expect(try await first.wait(until: { $0 != nil }, "the first waiter") == true)
        // Its alarm was cancelled.
        try await clock.waitForSleepers(0)

        // The clock passes first.
        let never = SharedFlag()
        let deadline = ClockDeadline(after: .seconds(10), on: clock)
        let second = onDedicatedThread("cd-cond-2") {
            lock.lock()
            defer { lock.unlock() }
            return deadline.wait(on: lock, until: { never.isSet })
        }
        try await clock.waitForSleepers(1)
        await clock.advance(by: .seconds(10) - .nanoseconds(1))
        #expect(second.value == nil, "the waiter gave up before the clock reached the deadline")
        await clock.advance(by: .nanoseconds(2))
        #expect(try await second.wait(until: { $0 != nil }, "the second waiter") == false)
    }

    @Test("wait(on:until:) on ContinuousClock times out after at least its duration")
    func waitsOnAConditionContinuous() async throws {
        let clock = ContinuousClock()
        let lock = ConditionLock()
        let never = SharedFlag()
        let begin = clock.now
        let deadline = ClockDeadline(after: .milliseconds(30), on: clock)
        let result = onDedicatedThread("cd-cond-c") {
            lock.lock()
            defer { lock.unlock() }
            return deadline.wait(on: lock, until: { never.isSet })
        }
        #expect(try await result.wait(until: { $0 != nil }, "the waiter") == false)
        #expect(clock.now - begin >= .milliseconds(30))
    }
}

/// A flag read and written under a test's `ConditionLock`.
///
/// `@unchecked Sendable`: `isSet` is only touched while that lock is held.
private final class SharedFlag: @unchecked Sendable {
    var isSet = false
}
