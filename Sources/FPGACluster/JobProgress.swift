/// How far a job has come, reported after each chunk is written, in input order.
public struct JobProgress: Sendable, Hashable {
    /// Input bytes whose output has been delivered.
    public var bytesDone: Int
    /// The input's size, when known (not for standard input).
    public var bytesTotal: Int?
    /// Chunks delivered.
    public var chunksDone: Int

    /// `bytesDone / bytesTotal`, when the total is known.
    public var fraction: Double? {
        guard let bytesTotal else { return nil }
        return bytesTotal == 0 ? 1 : Double(bytesDone) / Double(bytesTotal)
    }
}

/// Receives progress; called from the task that writes the output, so keep it short.
public typealias ProgressHandler = @Sendable (JobProgress) -> Void

/// What a finished job did.
public struct JobReport: Sendable, Hashable {
    /// Bytes read.
    public var bytesIn: Int
    /// Bytes written.
    public var bytesOut: Int
    /// Chunks (members) processed.
    public var chunks: Int
    /// Chunks run by each node, by node name; empty for host-only work.
    public var chunksPerNode: [String: Int]
    /// Wall time of the job.
    public var duration: Duration

    /// Input megabytes (10^6 bytes) per second.
    public var megabytesPerSecond: Double {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        return seconds > 0 ? Double(bytesIn) / seconds / 1e6 : 0
    }
}
