/// Why a shared token could not be loaded.
public enum AuthTokenError: Error, Hashable, CustomStringConvertible, Sendable {
    /// No file at this path.
    case fileNotFound(String)
    /// The file exists but could not be read: the path and the system's reason.
    case unreadable(String, reason: String)
    /// The token is empty; where it came from, such as `token file /etc/fpga/token`.
    case empty(source: String)
    /// The token is shorter than `AuthToken.minimumLength` bytes.
    case tooShort(length: Int, source: String)
    /// The token file is larger than `AuthToken.maximumFileSize` bytes.
    case tooLong(source: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): "token file \(path) not found"
        case .unreadable(let path, let reason): "cannot read token file \(path): \(reason)"
        case .empty(let source): "\(source) is empty"
        case .tooShort(let length, let source):
            "\(source) holds \(length) bytes; a token needs at least \(AuthToken.minimumLength)"
        case .tooLong(let source): "\(source) is larger than \(AuthToken.maximumFileSize) bytes"
        }
    }
}
