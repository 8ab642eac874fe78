/// RESULT (type 6), worker to client: how a run ended. The frame's request id is the run's.
///
/// Body: u8 status; status 0 (success): the payload, the rest of the body; status 1
/// (failure): u16 code, string message, nothing after.
public enum RunResult: Sendable, Hashable {
    /// The run finished; its output is the frame's payload.
    case success
    /// The run failed or never ran: `.overloaded`, `.cancelled`, `.deviceFailed`, ... The
    /// message is free text; encoding cuts it to 4096 bytes.
    case failure(code: WireErrorCode, message: String)

    func encode(into writer: inout WireWriter) {
        switch self {
        case .success:
            writer.u8(0)
        case .failure(let code, let message):
            writer.u8(1)
            writer.u16(code.rawValue)
            writer.text(message)
        }
    }

    /// Reads the status and, for a failure, its fields; the payload is left to the caller.
    static func decode(from reader: inout WireReader) throws(WireError) -> RunResult {
        let status = try reader.u8("status")
        switch status {
        case 0:
            return .success
        case 1:
            let code = WireErrorCode(rawValue: try reader.u16("code"))
            return .failure(code: code, message: try reader.string("message"))
        default:
            throw .malformed("RESULT status is \(status), not 0 or 1")
        }
    }
}
