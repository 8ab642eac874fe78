import FPGAExecution

/// The scheduler's core: takes indexed inputs from a source, runs each on whichever
/// lane is free, and hands the outputs to a sink in input order.
///
/// A node gets as many lanes as its driver's capacity, so it never holds more inputs
/// than it can work on, and a faster node comes back for the next input sooner and so
/// takes more. At most `window` inputs are between being taken and being delivered,
/// which bounds memory whatever the input size.
struct OrderedPipeline<Input: Sendable, Output: Sendable> {
    /// Where one input can run; the same name may appear on several lanes.
    struct Lane: Sendable {
        let name: String
        let run: @Sendable (Input) async throws -> Output
    }

    let lanes: [Lane]
    /// The most inputs between being taken and being delivered: by default every lane's
    /// input plus half as many again, so that lanes rarely wait for a slow early input.
    let window: Int

    init(lanes: [Lane], window: Int? = nil) {
        precondition(!lanes.isEmpty, "a pipeline needs at least one lane")
        self.lanes = lanes
        self.window = max(1, window ?? lanes.count + (lanes.count + 1) / 2)
    }

    /// Runs the pipeline. `source` must hand out consecutive indices from 0 and return
    /// nil at the end; `sink` receives every output exactly once, in index order.
    /// Returns the number of inputs each lane name ran.
    func run(
        source: @escaping @Sendable () async throws -> (index: Int, input: Input)?,
        weight: @escaping @Sendable (Input) -> Int = { _ in 1 },
        sink: @escaping @Sendable (Output, _ weight: Int) async throws -> Void
    ) async throws -> [String: Int] {
        let window = AsyncSemaphore(permits: self.window)
        let reorder = Reorder<Output>(sink: sink, window: window)
        let counts = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for lane in lanes {
                group.addTask {
                    var done = 0
                    while true {
                        try await window.acquire()
                        guard let (index, input) = try await source() else {
                            window.release()
                            break
                        }
                        let inputWeight = weight(input)
                        let output = try await lane.run(input)
                        done += 1
                        try await reorder.deliver(output, weight: inputWeight, at: index)
                    }
                    return (lane.name, done)
                }
            }
            var counts: [String: Int] = [:]
            for try await (name, done) in group { counts[name, default: 0] += done }
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
            Lane(name: "cpu") { input in try await pool.run { try transform(input) } }
        }
    }

    /// Lanes for a device job: each node repeated its driver's capacity times,
    /// interleaved so nodes start evenly. Nodes whose driver cannot be made are left
    /// out; if none is left, the first error is thrown.
    static func lanes<Job: DeviceJob>(for job: Job, on nodes: [WorkerNode]) async throws -> [Lane]
    where Job.Input == Input, Job.Output == Output {
        let results = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for (position, node) in nodes.enumerated() {
                group.addTask {
                    do {
                        return (position, .success(try await node.driver(for: job).capacity))
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
                lanes.append(Lane(name: node.name) { try await node.run(job, $0) })
            }
        }
        if lanes.isEmpty {
            for (_, result) in results { if case .failure(let error) = result { throw error } }
            throw ClusterError.noDevices
        }
        return lanes
    }
}

/// Puts outputs back in input order and feeds them to the sink one at a time.
private actor Reorder<Output: Sendable> {
    private let sink: @Sendable (Output, Int) async throws -> Void
    private let window: AsyncSemaphore
    private var pending: [Int: (Output, Int)] = [:]
    private var next = 0
    private var draining = false
    private var failure: (any Error)?

    init(sink: @escaping @Sendable (Output, Int) async throws -> Void, window: AsyncSemaphore) {
        self.sink = sink
        self.window = window
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
            window.release()
        }
    }

    func checkComplete() throws {
        if let failure { throw failure }
        precondition(pending.isEmpty, "outputs left undelivered: the source skipped an index")
    }
}
