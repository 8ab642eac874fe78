/// Why a vector addition, or the description of its program, was refused.
///
/// Device failures (no xclbin loaded, out of device memory, a failed run) are not
/// repeated here: they arrive as the device's own `DeviceError`.
public enum VectorAddError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The two operands have different lengths.
    case lengthMismatch(Int, Int)
    /// More elements than the driver's buffers hold.
    case tooManyElements(Int, limit: Int)
    /// A driver buffer size that is not in `1...limit` elements.
    case invalidMaxElements(Int, limit: Int)
    /// A compute unit count the vector-add xclbin cannot describe.
    case invalidComputeUnitCount(Int, valid: ClosedRange<Int>)
    /// A ``VectorAddJob`` input payload whose length is not that of its element count:
    /// 4 bytes of count, then `count` elements of each vector, 4 bytes each.
    case malformedInput(count: Int, bytes: Int)
    /// A ``VectorAddJob`` output payload whose length is not a whole number of elements.
    case malformedOutput(bytes: Int)

    /// A one-line description of the error.
    public var description: String {
        switch self {
        case .lengthMismatch(let first, let second):
            "cannot add vectors of different lengths (\(first) and \(second) elements)"
        case .tooManyElements(let count, let limit):
            "a vector of \(count) elements exceeds the driver's limit of \(limit)"
        case .invalidMaxElements(let count, let limit):
            "invalid vector-add buffer size \(count) elements: it must be 1 to \(limit)"
        case .invalidComputeUnitCount(let count, let valid):
            "invalid krnl_vadd compute unit count \(count): it must be \(valid.lowerBound) to \(valid.upperBound)"
        case .malformedInput(let count, let bytes):
            "malformed vadd input: \(bytes) bytes after a count of \(count) elements, which needs \(count * 8)"
        case .malformedOutput(let bytes):
            "malformed vadd output: \(bytes) bytes is not a whole number of 4-byte elements"
        }
    }
}
