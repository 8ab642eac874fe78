#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemRead = Glibc.read
#elseif canImport(Musl)
    private let systemRead = Musl.read
#elseif canImport(Darwin)
    private let systemRead = Darwin.read
#endif

/// The secret a client and a worker share. Both prove knowledge of it in the handshake
/// without sending it.
///
/// The token is the HMAC key as it is: any bytes, at least 16 of them. Its description
/// shows only its length, so it does not end up in logs.
public struct AuthToken: Sendable, CustomStringConvertible {
    /// The fewest bytes a token may have.
    public static let minimumLength = 16
    /// The largest token file ``load(file:)`` reads.
    public static let maximumFileSize = 65536

    /// The key.
    public let bytes: [UInt8]

    /// A token of these bytes, at least ``minimumLength`` of them.
    public init(bytes: [UInt8]) throws(AuthTokenError) {
        try self.init(bytes: bytes, source: "token")
    }

    private init(bytes: [UInt8], source: String) throws(AuthTokenError) {
        guard !bytes.isEmpty else { throw .empty(source: source) }
        guard bytes.count >= Self.minimumLength else { throw .tooShort(length: bytes.count, source: source) }
        self.bytes = bytes
    }

    /// The token in the file at `path`: its bytes without one trailing `\n` or `\r\n`, as
    /// editors and `echo` add.
    public static func load(file path: String) throws(AuthTokenError) -> AuthToken {
        let source = "token file \(path)"
        var bytes = try readFile(path, source: source)
        if bytes.last == 0x0a {
            bytes.removeLast()
            if bytes.last == 0x0d { bytes.removeLast() }
        }
        return try AuthToken(bytes: bytes, source: source)
    }

    /// The token in the environment variable `name` (its UTF-8 bytes), or nil when the
    /// variable is not set or is empty.
    public static func fromEnvironment(_ name: String = "FPGACLUSTER_TOKEN") throws(AuthTokenError) -> AuthToken? {
        guard let value = getenv(name) else { return nil }
        let bytes = Array(String(cString: value).utf8)
        guard !bytes.isEmpty else { return nil }
        return try AuthToken(bytes: bytes, source: "environment variable \(name)")
    }

    public var description: String { "AuthToken(\(bytes.count) bytes)" }

    /// Reads the whole file, up to ``maximumFileSize`` bytes.
    private static func readFile(_ path: String, source: String) throws(AuthTokenError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .fileNotFound(path) }
            throw .unreadable(path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw .unreadable(path, reason: String(cString: strerror(code)))
            }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            guard bytes.count <= maximumFileSize else { throw .tooLong(source: source) }
        }
    }
}
