import FPGAExecution
import FPGATestSync
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An actor whose every job runs on its own `ThreadExecutor` thread.
private actor PinnedActor {
    let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let tracker = ConcurrencyTracker()
    private(set) var counter = 0
    private var sink = 0
    private(set) var threads: Set<pthread_t> = []

    init(threadName: String) {
        executor = ThreadExecutor(name: threadName)
    }

    func whereAmI() -> (name: String, thread: pthread_t) {
        (currentThreadName(), pthread_self())
    }

    /// A read-modify-write spread over some work, so overlapping calls would be seen.
    func slowIncrement() -> Int {
        tracker.enter()
        defer { tracker.leave() }
        threads.insert(pthread_self())
        let before = counter
        var spin = 0
        for index in 0..<2_000 { spin &+= index }
        sink = spin
        counter = before + 1
        return counter
    }

    nonisolated var maximumConcurrency: Int { tracker.maximum }

    /// Blocks this actor's thread until `barrier` is full.
    func block(on barrier: ThreadBarrier) -> Bool {
        barrier.arriveAndWait()
    }
}

@Suite("ThreadExecutor")
struct ThreadExecutorTests {
    @Test("an actor using a ThreadExecutor runs on the executor's thread")
    func actorRunsOnItsThread() async throws {
        let actor = PinnedActor(threadName: "pinned-a")
        let callerThread = pthread_self()
        let first = await actor.whereAmI()
        let second = await Task.detached { await actor.whereAmI() }.value

        #expect(first.name == "pinned-a")
        #expect(second.name == "pinned-a")
        #expect(first.thread == second.thread, "every job of the actor runs on the same thread")
        #expect(first.thread != callerThread, "the actor does not run on the caller's cooperative-pool thread")
        #expect(threadCount(named: "pinned-a") == 1)
    }

    @Test("two executors have two different threads")
    func executorsHaveDistinctThreads() async {
        let one = PinnedActor(threadName: "pinned-one")
        let two = PinnedActor(threadName: "pinned-two")
        let a = await one.whereAmI()
        let b = await two.whereAmI()
        #expect(a.thread != b.thread)
        #expect(a.name == "pinned-one")
        #expect(b.name == "pinned-two")
    }

    @Test("thread names are cut to the 15 bytes Linux keeps")
    func longNamesAreTruncated() async {
        let actor = PinnedActor(threadName: "a-very-long-thread-name")
        let name = await actor.whereAmI().name
        #expect(name == "a-very-long-thr")
    }

    @Test("work on an actor with a ThreadExecutor is serialised")
    func workIsSerialised() async {
        let actor = PinnedActor(threadName: "pinned-serial")
        let calls = 200
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<calls {
                group.addTask { await actor.slowIncrement() }
            }
            var results: [Int] = []
            for await value in group { results.append(value) }
            #expect(results.sorted() == Array(1...calls), "each call saw the previous call's write")
        }
        #expect(await actor.counter == calls)
        #expect(actor.maximumConcurrency == 1, "no two jobs of the actor overlapped")
        #expect(await actor.threads.count == 1)
    }

    @Test("actors on their own threads may block without stalling the cooperative pool")
    func blockingActorsDoNotStarveEachOther() async {
        // More blocked actors than cores: on the cooperative pool (one thread per core)
        // they could not all be blocked at once.
        let parties = ProcessorInfo.activeCores + 2
        let barrier = ThreadBarrier(parties: parties)
        let actors = (0..<parties).map { PinnedActor(threadName: "blocker-\($0)") }
        let results = await withTaskGroup(of: Bool.self) { group in
            for actor in actors {
                group.addTask { await actor.block(on: barrier) }
            }
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(results == Array(repeating: true, count: parties))
    }

    @Test("isSameExclusiveExecutionContext is identity")
    func sameContextIsIdentity() {
        let one = ThreadExecutor(name: "ctx-one")
        let two = ThreadExecutor(name: "ctx-two")
        #expect(one.isSameExclusiveExecutionContext(other: one))
        #expect(!one.isSameExclusiveExecutionContext(other: two))
    }

    @Test("the thread exits once the executor is released")
    func threadStopsWithExecutor() async {
        let name = "pinned-stop"
        do {
            let actor = PinnedActor(threadName: name)
            // After one job the thread has certainly started and named itself.
            _ = await actor.whereAmI()
            #expect(threadCount(named: name) == 1)
        }
        #expect(await eventually { threadCount(named: name) == 0 }, "the executor's thread is still alive")
    }
}
