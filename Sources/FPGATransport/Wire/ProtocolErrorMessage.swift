/// ERROR (type 10), either way: the sender found a protocol error and closes the
/// connection after sending this.
///
/// Body: u16 code, string message. The frame's request id is 0.
public struct ProtocolErrorMessage: Sendable, Hashable {
    /// What went wrong.
    public var code: WireErrorCode
    /// Free text for logs. Encoding cuts it to 4096 bytes.
    public var message: String

    public init(code: WireErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    /// The ERROR to send before closing a connection because of `error`.
    public init(_ error: WireError) {
        self.init(code: error.code, message: error.description)
    }

    func encode(into writer: inout WireWriter) {
        writer.u16(code.rawValue)
        writer.text(message)
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> ProtocolErrorMessage {
        let code = WireErrorCode(rawValue: try reader.u16("code"))
        return ProtocolErrorMessage(code: code, message: try reader.string("message"))
    }
}
