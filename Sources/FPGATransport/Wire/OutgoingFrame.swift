/// An encoded frame ready to send: the header and message fields in `head`, then the
/// payload of a RUN or successful RESULT, which stays in the caller's buffer so that it can
/// be written as a second buffer without copying.
///
/// The header's body length counts both: `head.count - 16 + payload.count`. The constructors
/// do not check the peer's limit; compare ``bodyLength`` with it before sending.
public struct OutgoingFrame: Sendable, Hashable {
    /// The 16-byte header followed by the message's fields.
    public var head: [UInt8]
    /// The payload, sent after `head`; empty for messages without one.
    public var payload: ArraySlice<UInt8>

    public init(head: [UInt8], payload: ArraySlice<UInt8> = []) {
        self.head = head
        self.payload = payload
    }

    /// The body length the header announces.
    public var bodyLength: Int { head.count - FrameHeader.size + payload.count }

    /// The whole frame in one array (a copy of the payload).
    public var bytes: [UInt8] { head + payload }

    /// HELLO. Throws when the nonce is not 32 bytes or the name is longer than 4096 bytes.
    public static func hello(_ hello: Hello) throws(WireError) -> OutgoingFrame {
        var writer = WireWriter(message: .hello)
        try hello.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: 0))
    }

    /// CHALLENGE. Throws when the nonce or the proof is not 32 bytes.
    public static func challenge(_ challenge: Challenge) throws(WireError) -> OutgoingFrame {
        var writer = WireWriter(message: .challenge)
        try challenge.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: 0))
    }

    /// AUTH. Throws when the proof is not 32 bytes.
    public static func auth(_ auth: Auth) throws(WireError) -> OutgoingFrame {
        var writer = WireWriter(message: .auth)
        try auth.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: 0))
    }

    /// WELCOME. Throws when a string is longer than 4096 bytes, a list has more than 65535
    /// entries, two devices share an index or the heartbeat interval is 0.
    public static func welcome(_ welcome: Welcome) throws(WireError) -> OutgoingFrame {
        var writer = WireWriter(message: .welcome, capacity: 256)
        try welcome.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: 0))
    }

    /// RUN number `id` (not 0) with its payload. Throws when `id` is 0, the job kind is
    /// longer than 4096 bytes or the body would not fit a u32.
    public static func run(id: UInt64, _ request: RunRequest, payload: ArraySlice<UInt8> = [])
        throws(WireError) -> OutgoingFrame
    {
        guard id != 0 else { throw .malformed("RUN has request id 0") }
        var writer = WireWriter(message: .run, capacity: 64 + request.parameters.count)
        try request.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: id, payloadCount: payload.count), payload: payload)
    }

    /// RESULT for run `id` (not 0). A success carries `payload`; a failure carries none,
    /// and passing one throws.
    public static func result(id: UInt64, _ result: RunResult, payload: ArraySlice<UInt8> = [])
        throws(WireError) -> OutgoingFrame
    {
        guard id != 0 else { throw .malformed("RESULT has request id 0") }
        if case .failure = result, !payload.isEmpty { throw .malformed("a failed RESULT carries no payload") }
        var writer = WireWriter(message: .result)
        result.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: id, payloadCount: payload.count), payload: payload)
    }

    /// CANCEL of run `id` (not 0).
    public static func cancel(id: UInt64) throws(WireError) -> OutgoingFrame {
        guard id != 0 else { throw .malformed("CANCEL has request id 0") }
        return OutgoingFrame(head: FrameHeader(type: .cancel, bodyLength: 0, requestID: id).encoded())
    }

    /// STATUS number `id` (not 0): asks the worker what its devices are doing.
    public static func status(id: UInt64) throws(WireError) -> OutgoingFrame {
        guard id != 0 else { throw .malformed("STATUS has request id 0") }
        return OutgoingFrame(head: FrameHeader(type: .status, bodyLength: 0, requestID: id).encoded())
    }

    /// STATUS_REPORT answering STATUS `id` (not 0). Throws when a string is longer than
    /// 4096 bytes, two devices share an index, a device has more than 300 samples or a
    /// sample is busy more than 10000/10000 of its second.
    public static func statusReport(id: UInt64, _ report: StatusReport) throws(WireError) -> OutgoingFrame {
        guard id != 0 else { throw .malformed("STATUS_REPORT has request id 0") }
        var writer = WireWriter(message: .statusReport, capacity: 64 + report.devices.count * 256)
        try report.encode(into: &writer)
        return OutgoingFrame(head: try writer.finish(requestID: id))
    }

    /// HEARTBEAT.
    public static func heartbeat(_ heartbeat: Heartbeat) -> OutgoingFrame {
        var writer = WireWriter(message: .heartbeat)
        heartbeat.encode(into: &writer)
        return OutgoingFrame(head: try! writer.finish(requestID: 0))  // 8 bytes: always fits.
    }

    /// GOODBYE; a message longer than 4096 bytes is cut.
    public static func goodbye(_ goodbye: Goodbye) -> OutgoingFrame {
        var writer = WireWriter(message: .goodbye)
        goodbye.encode(into: &writer)
        return OutgoingFrame(head: try! writer.finish(requestID: 0))  // At most 4100 bytes: always fits.
    }

    /// ERROR; a message longer than 4096 bytes is cut.
    public static func error(_ error: ProtocolErrorMessage) -> OutgoingFrame {
        var writer = WireWriter(message: .error)
        error.encode(into: &writer)
        return OutgoingFrame(head: try! writer.finish(requestID: 0))  // At most 4100 bytes: always fits.
    }

    /// ERROR with this code and message; a message longer than 4096 bytes is cut.
    public static func error(code: WireErrorCode, message: String) -> OutgoingFrame {
        .error(ProtocolErrorMessage(code: code, message: message))
    }

    /// Any message; `requestID` is used by RUN, RESULT, CANCEL, STATUS and STATUS_REPORT and
    /// ignored by the others,
    /// which carry 0.
    public static func message(_ message: WireMessage, requestID: UInt64 = 0) throws(WireError) -> OutgoingFrame {
        switch message {
        case .hello(let hello): try .hello(hello)
        case .challenge(let challenge): try .challenge(challenge)
        case .auth(let auth): try .auth(auth)
        case .welcome(let welcome): try .welcome(welcome)
        case .run(let request, let payload): try .run(id: requestID, request, payload: payload)
        case .result(let result, let payload): try .result(id: requestID, result, payload: payload)
        case .cancel: try .cancel(id: requestID)
        case .heartbeat(let heartbeat): .heartbeat(heartbeat)
        case .goodbye(let goodbye): .goodbye(goodbye)
        case .error(let error): .error(error)
        case .status: try .status(id: requestID)
        case .statusReport(let report): try .statusReport(id: requestID, report)
        }
    }
}
