/// GOODBYE (type 9), either way: the sender is closing the connection once its in-flight
/// runs are done.
///
/// Body: u16 reason code, string message.
public struct Goodbye: Sendable, Hashable {
    /// Why: `.normalClosure`, `.shuttingDown`, ...
    public var reason: WireErrorCode
    /// Free text for logs. Encoding cuts it to 4096 bytes.
    public var message: String

    public init(reason: WireErrorCode, message: String = "") {
        self.reason = reason
        self.message = message
    }

    func encode(into writer: inout WireWriter) {
        writer.u16(reason.rawValue)
        writer.text(message)
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> Goodbye {
        let reason = WireErrorCode(rawValue: try reader.u16("reason"))
        return Goodbye(reason: reason, message: try reader.string("message"))
    }
}
