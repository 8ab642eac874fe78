/// Why a gzip stream could not be read or written.
public enum GzipError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The bytes at `offset` do not start a gzip member.
    case notGzip(offset: Int)
    /// A compression method other than deflate (8).
    case unsupportedMethod(Int, offset: Int)
    /// The header is malformed: reserved flags, a bad header CRC, an inconsistent
    /// FEXTRA field or index subfield.
    case badHeader(String, offset: Int)
    /// The input ends inside a member.
    case truncated(offset: Int)
    /// The deflate data of a member is corrupt.
    case corruptData(String, member: Int, offset: Int)
    /// The CRC-32 in a member's trailer does not match its data.
    case crcMismatch(member: Int, offset: Int)
    /// The ISIZE in a member's trailer (or the index subfield) does not match its data.
    case lengthMismatch(member: Int, offset: Int)
    /// Bytes after the last member that do not start another member.
    case trailingGarbage(offset: Int)
    /// A chunk too large for one member (the index stores 32-bit sizes).
    case chunkTooLarge(Int, limit: Int)

    public var description: String {
        switch self {
        case .notGzip(let offset): "not in gzip format (at byte \(offset))"
        case .unsupportedMethod(let method, let offset): "unsupported compression method \(method) (at byte \(offset))"
        case .badHeader(let reason, let offset): "corrupt gzip header at byte \(offset): \(reason)"
        case .truncated(let offset): "unexpected end of file (at byte \(offset))"
        case .corruptData(let reason, let member, let offset):
            "corrupt deflate data in member \(member) at byte \(offset): \(reason)"
        case .crcMismatch(let member, let offset): "CRC-32 mismatch in member \(member) at byte \(offset)"
        case .lengthMismatch(let member, let offset): "length mismatch in member \(member) at byte \(offset)"
        case .trailingGarbage(let offset): "trailing garbage after the last member (at byte \(offset))"
        case .chunkTooLarge(let size, let limit): "chunk of \(size) bytes exceeds the \(limit)-byte limit of one member"
        }
    }
}
