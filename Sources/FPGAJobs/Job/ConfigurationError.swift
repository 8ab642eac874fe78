/// Why a job's size, or a cluster's setting of it, cannot be used.
public enum ConfigurationError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A chunk size outside the supported range.
    case invalidChunkSize(Int, range: ClosedRange<Int>)
    /// A classification batch size outside the supported range.
    case invalidBatchSize(Int, range: ClosedRange<Int>)

    public var description: String {
        switch self {
        case .invalidChunkSize(let size, let range):
            "chunk size \(size) is outside \(range.lowerBound)...\(range.upperBound) bytes"
        case .invalidBatchSize(let size, let range):
            "batch size \(size) is outside \(range.lowerBound)...\(range.upperBound) images"
        }
    }
}
