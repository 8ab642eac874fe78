import FPGADrivers

extension Cluster {
    /// Compresses bytes into one multi-member gzip file, one member per chunk, with every
    /// node helping.
    public func compress(_ data: [UInt8], progress: ProgressHandler? = nil) async throws -> [UInt8] {
        let job = GzipCompressionJob(chunkSize: configuration.chunkSize)
        let source = ChunkedBytesSource(data, chunkSize: configuration.chunkSize)
        let output = ByteCollector(reserving: data.count / 2 + 64)
        let tracker = ProgressTracker(total: data.count, handler: progress)
        let lanes = try await OrderedPipeline<ArraySlice<UInt8>, ArraySlice<UInt8>>.lanes(for: job, on: nodes)
        _ = try await OrderedPipeline(lanes: lanes).run(
            source: { source.next() }, weight: { $0.count },
            sink: { member, weight in
                output.append(member)
                tracker.advance(by: weight)
            })
        return output.take()
    }

    /// Compresses the file at `input` into a gzip file at `output`, streaming with
    /// bounded memory whatever the file's size.
    ///
    /// The output is written to a temporary file beside it and renamed into place only
    /// when everything succeeded; on any failure nothing is left. `-` means standard
    /// input or standard output (written as it goes). An existing output is replaced
    /// only when `overwrite` is true.
    @discardableResult
    public func compressFile(
        at input: String, to output: String, overwrite: Bool = false, progress: ProgressHandler? = nil
    ) async throws -> JobReport {
        let started = ContinuousClock.now
        let chunkSize = configuration.chunkSize
        let reader = try FileReader(path: input)
        let writer = try FileWriter.opening(output, for: reader, overwrite: overwrite)
        do {
            let job = GzipCompressionJob(chunkSize: chunkSize)
            let tracker = ProgressTracker(total: reader.size, handler: progress)
            let lanes = try await OrderedPipeline<ArraySlice<UInt8>, ArraySlice<UInt8>>.lanes(for: job, on: nodes)
            let counts = try await OrderedPipeline(lanes: lanes).run(
                source: { try await reader.nextChunk(maximum: chunkSize) }, weight: { $0.count },
                sink: { member, weight in
                    try await writer.write(member)
                    tracker.advance(by: weight)
                })
            try await writer.commit()
            return JobReport(
                bytesIn: tracker.bytesDone, bytesOut: await writer.bytesWritten, chunks: counts.values.reduce(0, +),
                chunksPerNode: counts, duration: ContinuousClock.now - started)
        } catch {
            await writer.abort()
            throw error
        }
    }
}
