/// Why bytes could not be read as, or a message could not be written as, protocol frames.
public enum WireError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A frame does not start with `FW`; the two bytes found.
    case badMagic(UInt8, UInt8)
    /// A frame header names a message type this version does not know.
    case unknownMessageType(UInt8)
    /// A frame header's flags byte is not 0.
    case nonzeroFlags(UInt8)
    /// A frame body is longer than the limit: its length and the limit.
    case bodyTooLarge(length: Int, limit: Int)
    /// The bytes end inside the named field, such as `HELLO clientName`.
    case truncated(String)
    /// A field holds a value the specification does not allow.
    case malformed(String)
    /// The named string field is not valid UTF-8.
    case invalidUTF8(String)
    /// The named string field is longer than `WireProtocol.maxStringLength` bytes.
    case stringTooLong(String, length: Int)
    /// The peer speaks this protocol version, not ours.
    case unsupportedVersion(UInt16)
    /// The handshake failed; why.
    case authenticationFailed(String)
    /// The worker requires a token and this side has none.
    case tokenRequired
    /// A message arrived when it is not allowed.
    case unexpectedMessage(MessageType)
    /// The peer sent ERROR (or a GOODBYE for a failure) with this code and message.
    case remote(code: WireErrorCode, message: String)

    /// The code to send in an ERROR frame before closing the connection for this error.
    public var code: WireErrorCode {
        switch self {
        case .badMagic, .nonzeroFlags, .truncated, .malformed, .invalidUTF8, .stringTooLong: .malformedFrame
        case .unknownMessageType: .unknownMessage
        case .bodyTooLarge: .frameTooLarge
        case .unsupportedVersion: .unsupportedVersion
        case .authenticationFailed, .tokenRequired: .authenticationFailed
        case .unexpectedMessage: .unexpectedMessage
        case .remote(let code, _): code
        }
    }

    public var description: String {
        switch self {
        case .badMagic(let first, let second):
            "not an FPGACluster frame: starts with \(hex(first)) \(hex(second)), not 0x46 0x57 (\"FW\")"
        case .unknownMessageType(let type): "unknown message type \(type)"
        case .nonzeroFlags(let flags): "frame flags are \(hex(flags)), not 0"
        case .bodyTooLarge(let length, let limit): "frame body of \(length) bytes exceeds the \(limit)-byte limit"
        case .truncated(let what): "\(what) is cut short"
        case .malformed(let reason): "malformed message: \(reason)"
        case .invalidUTF8(let field): "\(field) is not valid UTF-8"
        case .stringTooLong(let field, let length):
            "\(field) is \(length) bytes long, more than the \(WireProtocol.maxStringLength) a string may hold"
        case .unsupportedVersion(let version):
            "peer speaks protocol version \(version), this side speaks version \(WireProtocol.version)"
        case .authenticationFailed(let reason): "authentication failed: \(reason)"
        case .tokenRequired: "authentication failed: the worker requires a token"
        case .unexpectedMessage(let type): "unexpected \(type) message"
        case .remote(let code, let message): "peer reported \(code): \(message)"
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return byte < 16 ? "0x0" + digits : "0x" + digits
}
