import Synchronization

extension Cluster {
    /// Runs any device job over the cluster, streaming: the outputs of `inputs`, in input
    /// order, as they are ready.
    ///
    /// Every node that can run `job` pulls the next input when it has room, as for
    /// ``compress(_:progress:)``, and the stream hands the outputs back in the order their
    /// inputs came. Memory stays bounded whatever the length of `inputs`: the cluster reads
    /// ahead of the consumer only as far as its nodes can work on (every node's capacity
    /// and half as much again), and reads no further until the consumer takes an output.
    ///
    /// ```swift
    /// import AsyncAlgorithms  // swift-async-algorithms, for `.async`
    /// import FPGACluster
    ///
    /// let cluster = try Cluster(devices: .simulated(count: 2))
    /// let job = GzipCompressionJob(chunkSize: 1 << 20)
    /// // Any async sequence of inputs, pulled only as fast as the cluster and the loop below
    /// // go: here 10,000 generated chunks of 1 MiB, never all in memory at once.
    /// let chunks = (0..<10_000).async.map { ArraySlice(makeChunk(number: $0)) }
    /// for try await member in cluster.run(job, inputs: chunks) {
    ///     try output.write(contentsOf: member)  // one gzip member per chunk, in chunk order
    /// }
    /// ```
    ///
    /// Nothing runs until the first call to the stream's `next()`; as with any
    /// `AsyncThrowingStream`, iterate it from one task at a time. The stream ends with
    /// the first error: one thrown by `inputs`, by a node (``ClusterError``), or by the
    /// job's driver. Cancelling the task that iterates the stream, or dropping the stream
    /// before its end (a `break` out of `for try await`), cancels the job: it takes no
    /// further input, and runs already on a device finish and are discarded.
    ///
    /// - Parameters:
    ///   - job: The job to run; see ``DeviceJob``.
    ///   - inputs: The inputs, read once, one element at a time.
    /// - Returns: The outputs, one per input, in input order.
    public nonisolated func run<Job: DeviceJob, Inputs: AsyncSequence>(
        _ job: Job, inputs: sending Inputs
    ) -> AsyncThrowingStream<Job.Output, any Error> where Inputs.Element == Job.Input {
        let source = ScatterInputs.sequence(inputs)
        let outputs = OutputHandoff<Job.Output>()
        let run = StreamedRun {
            Task {
                do {
                    _ = try await self.scatter(
                        source, of: Self.metricsName(of: job), over: try await self.lanes(for: job)
                    ) { output, _ in
                        try await outputs.send(output)
                    }
                    outputs.finish(.success(()))
                } catch {
                    outputs.finish(.failure(error))
                }
            }
        }
        return AsyncThrowingStream {
            run.start()
            do {
                return try await outputs.receive()
            } catch is CancellationError where Task.isCancelled {
                // The consumer's task was cancelled: the stream ends, and so does the job.
                run.cancel()
                return nil
            }
        }
    }

    /// Runs any device job over the cluster: `inputs` are scattered over the nodes and
    /// their outputs returned in input order.
    ///
    /// ```swift
    /// let cluster = try Cluster(devices: .simulated(count: 2))
    /// let chunks = stride(from: 0, to: data.count, by: 1 << 20).map { data[$0..<min($0 + (1 << 20), data.count)] }
    /// let members = try await cluster.map(GzipCompressionJob(chunkSize: 1 << 20), inputs: chunks)
    /// // members[i] is chunks[i] as one gzip member.
    /// ```
    ///
    /// Throws the first error a node or the job's driver throws; no output is returned
    /// then. For inputs that do not fit in memory at once, use ``run(_:inputs:)``, which
    /// streams.
    ///
    /// - Parameters:
    ///   - job: The job to run; see ``DeviceJob``.
    ///   - inputs: The inputs.
    /// - Returns: The outputs, one per input, in input order.
    public func map<Job: DeviceJob>(_ job: Job, inputs: [Job.Input]) async throws -> [Job.Output] {
        let results = OrderedCollector<Job.Output>()
        _ = try await scatter(.elements(inputs), of: Self.metricsName(of: job), over: try await lanes(for: job)) {
            output, _ in
            results.append(output)
        }
        return results.take()
    }

    /// Runs any device job over the cluster: `inputs` are scattered over the nodes and the
    /// outputs returned in input order.
    ///
    /// Kept for source compatibility and hidden from the documentation, where
    /// ``run(_:inputs:)`` is the streaming method.
    @available(*, deprecated, renamed: "map(_:inputs:)", message: "run(_:inputs:) now streams any async sequence")
    @_documentation(visibility: internal)
    public func run<Job: DeviceJob>(_ job: Job, inputs: [Job.Input]) async throws -> [Job.Output] {
        try await map(job, inputs: inputs)
    }
}

/// The job behind one stream of ``Cluster/run(_:inputs:)``: started by the consumer's first
/// `next()`, cancelled when the consumer's task is cancelled or the stream is dropped
/// (the stream holds the only reference, so its end is this object's).
private final class StreamedRun: Sendable {
    private let makeTask: @Sendable () -> Task<Void, Never>
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ makeTask: @escaping @Sendable () -> Task<Void, Never>) { self.makeTask = makeTask }

    deinit { cancel() }

    func start() {
        task.withLock { task in
            if task == nil { task = makeTask() }
        }
    }

    func cancel() { task.withLock { $0 }?.cancel() }
}
