/// The one scatter path every job takes: inputs from a source run on the pipeline's lanes,
/// each output reaches a sink in input order, and progress advances after each output.
///
/// Compression, decompression, classification and the generic ``Cluster/map(_:inputs:)`` and
/// ``Cluster/run(_:inputs:)`` differ only in their lanes (a device job's or host threads'),
/// where their inputs come from (``ScatterInputs``) and where their outputs go: bytes in
/// memory, a file, an array or a stream.
extension Cluster {
    /// Scatters `inputs` of the job named `job` (`gzip`, `gunzip`, `cnv`, a job's kind) over
    /// `lanes` and hands each output to `sink` in input order, then reports progress by its
    /// input's weight. Returns the inputs each lane name ran and the weight delivered.
    /// Counts the job, its failure and its requeued inputs in the cluster's metrics.
    nonisolated func scatter<Input: Sendable, Output: Sendable>(
        _ inputs: ScatterInputs<Input>, of job: String, over lanes: [OrderedPipeline<Input, Output>.Lane],
        progress: ProgressHandler? = nil,
        into sink: @escaping @Sendable (Output, _ weight: Int) async throws -> Void
    ) async throws -> (counts: [String: Int], weightDone: Int) {
        let metrics = ClusterMetrics(factory: configuration.metrics)
        metrics.jobStarted(job)
        let tracker = ProgressTracker(total: inputs.total, handler: progress)
        do {
            let counts = try await OrderedPipeline(lanes: lanes, onRequeue: metrics.inputRequeued).run(
                source: inputs.next, weight: inputs.weight,
                sink: { output, weight in
                    try await sink(output, weight)
                    tracker.advance(by: weight)
                })
            return (counts, tracker.bytesDone)
        } catch {
            metrics.jobFailed(job)
            throw error
        }
    }

    /// A job's name in the cluster's metrics: its wire kind when it has one, else its type's.
    nonisolated static func metricsName<Job: DeviceJob>(of job: Job) -> String {
        (job as? any RemoteJob).map { type(of: $0).kind } ?? String(describing: Job.self)
    }

    /// Lanes for `job` on every node of the cluster whose inputs are read when a lane has
    /// room for them (a chunk of a file, straight into a local device's buffer).
    nonisolated func lanes<Job: DeviceJob>(
        deferring job: Job
    ) async throws -> [OrderedPipeline<DeferredBytes, Job.Output>.Lane] where Job.Input == ArraySlice<UInt8> {
        try await OrderedPipeline.lanes(deferring: job, on: nodes)
    }

    /// The lanes for `job` on `nodes` (every node of the cluster by default).
    nonisolated func lanes<Job: DeviceJob>(
        for job: Job, on nodes: [any DeviceNode]? = nil
    ) async throws -> [OrderedPipeline<Job.Input, Job.Output>.Lane] {
        try await OrderedPipeline.lanes(for: job, on: nodes ?? self.nodes)
    }

    /// Scatters `inputs` and concatenates the outputs in memory, after `check` accepted each
    /// (given the output and its input's weight).
    nonisolated func scatterConcatenating<Input: Sendable>(
        _ inputs: ScatterInputs<Input>, of job: String, over lanes: [OrderedPipeline<Input, ArraySlice<UInt8>>.Lane],
        reserving capacity: Int, progress: ProgressHandler?,
        check: @escaping @Sendable (ArraySlice<UInt8>, _ weight: Int) throws -> Void = { _, _ in }
    ) async throws -> (bytes: [UInt8], counts: [String: Int]) {
        let output = ByteCollector(reserving: capacity)
        let (counts, _) = try await scatter(inputs, of: job, over: lanes, progress: progress) { piece, weight in
            try check(piece, weight)
            output.append(piece)
        }
        return (output.take(), counts)
    }

    /// Reads the file at `input` and writes the file at `output` around `body`, which
    /// scatters the reader's contents to the writer and returns the chunks it ran (in all
    /// and by node). The output is committed only when `body` succeeded; otherwise it is
    /// removed and the error rethrown.
    func transformFile(
        at input: String, to output: String, overwrite: Bool,
        _ body: (FileReader, FileWriter) async throws -> (chunks: Int, chunksPerNode: [String: Int], bytesIn: Int)
    ) async throws -> JobReport {
        let started = ContinuousClock.now
        let reader = try FileReader(path: input)
        let writer = try FileWriter.opening(output, for: reader, overwrite: overwrite)
        do {
            let (chunks, chunksPerNode, bytesIn) = try await body(reader, writer)
            try await writer.commit()
            return JobReport(
                bytesIn: bytesIn, bytesOut: await writer.bytesWritten, chunks: chunks, chunksPerNode: chunksPerNode,
                duration: ContinuousClock.now - started)
        } catch {
            await writer.abort()
            throw error
        }
    }
}

/// Where a scatter's inputs come from: consecutive indices from 0 and nil at the end,
/// with each input's weight (the unit progress counts) and the total weight when known.
struct ScatterInputs<Input: Sendable>: Sendable {
    let next: @Sendable () async throws -> (index: Int, input: Input)?
    var weight: @Sendable (Input) -> Int = { _ in 1 }
    var total: Int? = nil

    /// The elements of an array.
    static func elements(
        _ elements: [Input], weight: @escaping @Sendable (Input) -> Int = { _ in 1 }, total: Int? = nil
    ) -> Self {
        let source = IndexedArraySource(elements)
        return Self(next: { source.next() }, weight: weight, total: total)
    }
}

extension ScatterInputs where Input == ArraySlice<UInt8> {
    /// Consecutive chunks of bytes in memory (at least one, even when they are empty),
    /// weighed in bytes.
    static func chunks(of bytes: [UInt8], size: Int) -> Self {
        let source = ChunkedBytesSource(bytes, chunkSize: size)
        return Self(next: { source.next() }, weight: { $0.count }, total: bytes.count)
    }

    /// Consecutive chunks of a file, read as the pipeline asks, weighed in bytes.
    static func chunks(of reader: FileReader, size: Int) -> Self {
        Self(next: { try await reader.nextChunk(maximum: size) }, weight: { $0.count }, total: reader.size)
    }
}

extension ScatterInputs where Input == DeferredBytes {
    /// Consecutive chunks of a file, each read when a lane has room for it (straight into
    /// a local device's buffer), weighed in bytes.
    static func deferredChunks(of reader: FileReader, size: Int) -> Self {
        Self(next: { try await reader.nextDeferredChunk(maximum: size) }, weight: { $0.count }, total: reader.size)
    }
}

extension ScatterInputs {
    /// The elements of an async sequence, pulled one at a time as the pipeline asks.
    static func sequence<Base: AsyncSequence>(_ base: sending Base) -> Self where Base.Element == Input {
        let source = SequenceSource<Input>(base)
        return Self(next: { try await source.next() })
    }
}
