/// A received frame: a checked header and its whole body.
public struct Frame: Sendable, Hashable {
    public var header: FrameHeader
    /// The body, `header.bodyLength` bytes.
    public var body: [UInt8]

    public init(header: FrameHeader, body: [UInt8]) {
        self.header = header
        self.body = body
    }

    /// Decodes the body as the message the header names.
    ///
    /// RUN and RESULT payloads are slices of `body`, not copies. RUN, RESULT, CANCEL, STATUS
    /// and STATUS_REPORT must carry a request id other than 0. Bytes after the last field of a message that
    /// has no payload are an error, and so is a HELLO or CHALLENGE of another protocol
    /// version (`WireError.unsupportedVersion`, found before the rest is read).
    public func decodeMessage() throws(WireError) -> WireMessage {
        var reader = WireReader(body, message: header.type)
        let message: WireMessage
        switch header.type {
        case .hello: message = .hello(try Hello.decode(from: &reader))
        case .challenge: message = .challenge(try Challenge.decode(from: &reader))
        case .auth: message = .auth(try Auth.decode(from: &reader))
        case .welcome: message = .welcome(try Welcome.decode(from: &reader))
        case .run:
            try checkRequestID()
            let request = try RunRequest.decode(from: &reader)
            return .run(request, payload: reader.rest())
        case .result:
            try checkRequestID()
            let result = try RunResult.decode(from: &reader)
            if case .success = result { return .result(result, payload: reader.rest()) }
            message = .result(result, payload: [])
        case .cancel:
            try checkRequestID()
            message = .cancel
        case .heartbeat: message = .heartbeat(try Heartbeat.decode(from: &reader))
        case .goodbye: message = .goodbye(try Goodbye.decode(from: &reader))
        case .error: message = .error(try ProtocolErrorMessage.decode(from: &reader))
        case .status:
            try checkRequestID()
            message = .status
        case .statusReport:
            try checkRequestID()
            message = .statusReport(try StatusReport.decode(from: &reader))
        }
        try reader.finish()
        return message
    }

    private func checkRequestID() throws(WireError) {
        guard header.requestID != 0 else { throw .malformed("\(header.type) has request id 0") }
    }
}
