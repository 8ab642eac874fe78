/// Why a job on files could not read its input file or write its output file.
public enum FileJobError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The input file does not exist.
    case inputNotFound(String)
    /// The input is a directory.
    case inputIsDirectory(String)
    /// The input file could not be opened or read.
    case inputUnreadable(String, reason: String)
    /// The output file exists and overwriting was not asked for.
    case outputExists(String)
    /// The output could not be created, written or renamed into place.
    case outputUnwritable(String, reason: String)
    /// Input and output are the same file.
    case sameFile(String)
    /// The input file became shorter while it was being read.
    case inputShrank(String, expected: Int, found: Int)

    public var description: String {
        switch self {
        case .inputNotFound(let path): "\(path): no such file"
        case .inputIsDirectory(let path): "\(path) is a directory"
        case .inputUnreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .outputExists(let path): "\(path) already exists"
        case .outputUnwritable(let path, let reason): "\(path): cannot write: \(reason)"
        case .sameFile(let path): "\(path): input and output are the same file"
        case .inputShrank(let path, let expected, let found):
            "\(path): file shrank while being read (\(expected) bytes when opened, \(found) now)"
        }
    }
}
