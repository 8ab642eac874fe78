import FPGAExecution

/// The scheduler's core: takes indexed inputs from a source, runs each on whichever
/// lane is free, and hands the outputs to a sink in input order.
///
/// A node gets as many lanes as its driver's capacity, so it never holds more inputs
/// than it can work on, and a faster node comes back for the next input sooner and so
/// takes more. At most `window` inputs are between being taken and being delivered,
/// which bounds memory whatever the input size.
///
/// When a lane's node is lost (its connection died or froze), the input goes back to
/// the front of the queue and runs on another lane; the lost node's lanes wait for it
/// to come back and give up after its retry budget. The job fails only when every lane
/// has given up with inputs left.
struct OrderedPipeline<Input: Sendable, Output: Sendable> {
    /// Where one input can run; the same name may appear on several lanes.
    struct Lane: Sendable {
        let name: String
        let run: @Sendable (Input) async throws -> Output
        /// Called after a run failed with an error for which `isLost` is true: returns
        /// once the lane may try again, throws when it should stop.
        var recover: (@Sendable () async throws -> Void)? = nil
        /// Where the lane's task runs by preference: host lanes run on the thread pool
        /// that does their work, so that a run needs no hop to it. Nil: the cooperative pool.
        var executor: (any TaskExecutor)? = nil

        init(
            name: String, run: @escaping @Sendable (Input) async throws -> Output,
            recover: (@Sendable () async throws -> Void)? = nil, executor: (any TaskExecutor)? = nil
        ) {
            self.name = name
            self.run = run
            self.recover = recover
            self.executor = executor
        }

        /// A lane whose task runs on `executor` by preference.
        init(name: String, executor: any TaskExecutor, run: @escaping @Sendable (Input) async throws -> Output) {
            self.init(name: name, run: run, executor: executor)
        }
    }

    let lanes: [Lane]
    /// The most inputs between being taken and being delivered: by default every lane's
    /// input plus half as many again, so that lanes rarely wait for a slow early input.
    let window: Int
    /// Told the lane's name each time an input goes back to the queue after its lane's
    /// node was lost.
    let onRequeue: @Sendable (_ lane: String) -> Void

    init(lanes: [Lane], window: Int? = nil, onRequeue: @escaping @Sendable (_ lane: String) -> Void = { _ in }) {
        precondition(!lanes.isEmpty, "a pipeline needs at least one lane")
        self.lanes = lanes
        self.window = max(1, window ?? lanes.count + (lanes.count + 1) / 2)
        self.onRequeue = onRequeue
    }

    /// Runs the pipeline. `source` must hand out consecutive indices from 0 and return
    /// nil at the end; `sink` receives every output exactly once, in index order.
    /// Returns the number of inputs each lane name ran.
    func run(
        source: @escaping @Sendable () async throws -> (index: Int, input: Input)?,
        weight: @escaping @Sendable (Input) -> Int = { _ in 1 },
        sink: @escaping @Sendable (Output, _ weight: Int) async throws -> Void
    ) async throws -> [String: Int] {
        let dispatcher = Dispatcher<Input>(window: window, source: source)
        let reorder = Reorder<Output>(sink: sink, dispatcher: dispatcher)
        let counts = try await withThrowingTaskGroup(of: (String, Int, (any Error)?).self) { group in
            for lane in lanes {
                group.addTask(executorPreference: lane.executor) {
                    var done = 0
                    while let (index, input) = try await dispatcher.take() {
                        let inputWeight = weight(input)
                        let output: Output
                        do {
                            output = try await lane.run(input)
                        } catch  where lane.recover != nil && ClusterError.isWorkerLoss(error) {
                            await dispatcher.requeue(index: index, input: input)
                            onRequeue(lane.name)
                            do {
                                try await dispatcher.untilDone(orAfter: lane.recover!)
                            } catch {
                                return (lane.name, done, error)  // this lane gives up
                            }
                            continue
                        }
                        done += 1
                        try await reorder.deliver(output, weight: inputWeight, at: index)
                    }
                    return (lane.name, done, nil)
                }
            }
            var counts: [String: Int] = [:]
            var lastLoss: (any Error)?
            for try await (name, done, loss) in group {
                counts[name, default: 0] += done
                if let loss { lastLoss = loss }
            }
            if await !dispatcher.isFinished {
                throw ClusterError.noWorkersLeft(lastLoss.map { String(describing: $0) } ?? "every lane stopped")
            }
            return counts
        }
        try await reorder.checkComplete()
        return counts
    }
}

extension OrderedPipeline {
    /// Lanes for host work: one per thread of the shared CPU pool, each running
    /// `transform` on that pool.
    static func hostLanes(_ transform: @escaping @Sendable (Input) throws -> Output) -> [Lane] {
        let pool = BlockingThreadPool.shared
        return (0..<pool.threadCount).map { _ in
            Lane(name: "cpu", run: { input in try await pool.run { try transform(input) } }, executor: pool)
        }
    }

    /// Lanes for a device job: each node repeated its capacity times, interleaved so
    /// nodes start evenly. Nodes that cannot run the job are left out; if none is left,
    /// the first error is thrown.
    static func lanes<Job: DeviceJob>(for job: Job, on nodes: [any DeviceNode]) async throws -> [Lane]
    where Job.Input == Input, Job.Output == Output {
        try await lanes(for: job, on: nodes) { node in { input in try await node.run(job, input) } }
    }

    /// Lanes for a device job on bytes whose inputs are read when a lane has room for them
    /// (``DeviceNode/run(_:deferred:)``): a chunk of a file goes straight into a local
    /// device's buffer.
    static func lanes<Job: DeviceJob>(deferring job: Job, on nodes: [any DeviceNode]) async throws -> [Lane]
    where Input == DeferredBytes, Job.Input == ArraySlice<UInt8>, Job.Output == Output {
        try await lanes(for: job, on: nodes) { node in { input in try await node.run(job, deferred: input) } }
    }

    /// Lanes for `job` on `nodes`, each running an input with what `running` makes for its node.
    private static func lanes<Job: DeviceJob>(
        for job: Job, on nodes: [any DeviceNode],
        running: (any DeviceNode) -> @Sendable (Input) async throws -> Output
    ) async throws -> [Lane] {
        let results = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for (position, node) in nodes.enumerated() {
                group.addTask {
                    do {
                        // Bound first: Swift 6.3.1's optimizer loses `position` when the
                        // await sits inside the result expression.
                        let capacity = try await node.capacity(for: job)
                        return (position, .success(capacity))
                    } catch {
                        return (position, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<Int, any Error>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        let capacities = results.map { (try? $0.1.get()) ?? 0 }
        var lanes: [Lane] = []
        for round in 0..<(capacities.max() ?? 0) {
            for (position, capacity) in capacities.enumerated() where round < capacity {
                let node = nodes[position]
                let run = running(node)
                var recover: (@Sendable () async throws -> Void)?
                if node.canRecover { recover = { try await node.recover() } }
                lanes.append(Lane(name: node.name, run: run, recover: recover))
            }
        }
        if lanes.isEmpty {
            for (_, result) in results { if case .failure(let error) = result { throw error } }
            throw ClusterError.noDevices
        }
        return lanes
    }
}

/// Hands out inputs: retries first, then new ones from the source while the window
/// has room; knows when every input taken has been delivered.
private actor Dispatcher<Input: Sendable> {
    private let source: @Sendable () async throws -> (index: Int, input: Input)?
    private var permits: Int
    private var retries: [(index: Int, input: Input)] = []
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var doneWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var nextWaiter: UInt64 = 0
    private var exhausted = false
    private var taken = 0
    private var delivered = 0

    init(window: Int, source: @escaping @Sendable () async throws -> (index: Int, input: Input)?) {
        self.permits = window
        self.source = source
    }

    /// Every input the source had was taken and delivered.
    var isFinished: Bool { exhausted && delivered == taken && retries.isEmpty }

    /// The next input for a lane, or nil when there is nothing left to do.
    func take() async throws -> (index: Int, input: Input)? {
        while true {
            try Task.checkCancellation()
            if !retries.isEmpty { return retries.removeFirst() }
            if isFinished { return nil }
            if !exhausted && permits > 0 {
                permits -= 1
                let next: (index: Int, input: Input)?
                do {
                    next = try await source()
                } catch {
                    permits += 1
                    throw error
                }
                guard let next else {
                    exhausted = true
                    permits += 1
                    wakeAll()
                    continue
                }
                taken += 1
                return next
            }
            try await waitForChange()
        }
    }

    /// Puts an input back for another lane.
    func requeue(index: Int, input: Input) {
        retries.append((index, input))
        wakeAll()
    }

    /// An input's output reached the sink: its window place is free.
    func didDeliver() {
        delivered += 1
        permits += 1
        wakeAll()
    }

    /// Runs `recover` until it returns (true: the lane may continue) unless every input
    /// is delivered first (then returns too, and the lane's next `take` ends it).
    func untilDone(orAfter recover: @escaping @Sendable () async throws -> Void) async throws {
        if isFinished { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recover() }
            group.addTask { await self.waitUntilFinished() }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Returns when every input is delivered, or when the calling task is cancelled.
    private func waitUntilFinished() async {
        if isFinished { return }
        nextWaiter += 1
        let id = nextWaiter
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    doneWaiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.endDoneWaiter(id) }
        }
    }

    private func endDoneWaiter(_ id: UInt64) {
        if let index = doneWaiters.firstIndex(where: { $0.id == id }) {
            doneWaiters.remove(at: index).continuation.resume()
        }
    }

    private func waitForChange() async throws {
        nextWaiter += 1
        let id = nextWaiter
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume(throwing: CancellationError())
        }
    }

    private func wakeAll() {
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.continuation.resume() }
        if isFinished {
            let done = doneWaiters
            doneWaiters = []
            for waiter in done { waiter.continuation.resume() }
        }
    }
}

/// Puts outputs back in input order and feeds them to the sink one at a time.
private actor Reorder<Output: Sendable> {
    private let sink: @Sendable (Output, Int) async throws -> Void
    private let dispatcher: any DeliveryObserver
    private var pending: [Int: (Output, Int)] = [:]
    private var next = 0
    private var draining = false
    private var failure: (any Error)?

    init(sink: @escaping @Sendable (Output, Int) async throws -> Void, dispatcher: some DeliveryObserver) {
        self.sink = sink
        self.dispatcher = dispatcher
    }

    func deliver(_ output: Output, weight: Int, at index: Int) async throws {
        if let failure { throw failure }
        pending[index] = (output, weight)
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while let ready = pending.removeValue(forKey: next) {
            do {
                try await sink(ready.0, ready.1)
            } catch {
                failure = error
                throw error
            }
            next += 1
            await dispatcher.didDeliver()
        }
    }

    func checkComplete() throws {
        if let failure { throw failure }
        precondition(pending.isEmpty, "outputs left undelivered: the source skipped an index")
    }
}

/// What the reorder stage tells the dispatcher.
private protocol DeliveryObserver: Actor {
    func didDeliver()
}

extension Dispatcher: DeliveryObserver {}
