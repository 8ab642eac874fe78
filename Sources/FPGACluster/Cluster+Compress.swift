import FPGADrivers

extension Cluster {
    /// Compresses bytes into one multi-member gzip file, one member per chunk, with every
    /// node helping.
    public func compress(_ data: [UInt8], progress: ProgressHandler? = nil) async throws -> [UInt8] {
        let job = GzipCompressionJob(chunkSize: configuration.chunkSize)
        return try await scatterConcatenating(
            .chunks(of: data, size: configuration.chunkSize), of: GzipCompressionJob.kind,
            over: try await lanes(for: job),
            reserving: data.count / 2 + 64, progress: progress
        ).bytes
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
        let job = GzipCompressionJob(chunkSize: configuration.chunkSize)
        return try await transformFile(at: input, to: output, overwrite: overwrite) { reader, writer in
            let (counts, bytesIn) = try await scatter(
                .deferredChunks(of: reader, size: job.chunkSize), of: GzipCompressionJob.kind,
                over: try await lanes(deferring: job),
                progress: progress
            ) { member, _ in try await writer.write(member) }
            return (counts.values.reduce(0, +), counts, bytesIn)
        }
    }
}
