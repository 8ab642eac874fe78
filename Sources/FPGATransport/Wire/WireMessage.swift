/// A decoded message. The request id, for the messages that have one, is in the frame
/// header.
public enum WireMessage: Sendable, Hashable {
    case hello(Hello)
    case challenge(Challenge)
    case auth(Auth)
    case welcome(Welcome)
    /// A RUN and its payload, a slice of the frame's body.
    case run(RunRequest, payload: ArraySlice<UInt8>)
    /// A RESULT and its payload, a slice of the frame's body (empty for a failure).
    case result(RunResult, payload: ArraySlice<UInt8>)
    case cancel
    case heartbeat(Heartbeat)
    case goodbye(Goodbye)
    case error(ProtocolErrorMessage)
    /// STATUS: an empty body; the request id (not 0) matches its STATUS_REPORT.
    case status
    /// STATUS_REPORT, the answer to the STATUS with the same request id.
    case statusReport(StatusReport)

    /// The message type of the frame that carries it.
    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .challenge: .challenge
        case .auth: .auth
        case .welcome: .welcome
        case .run: .run
        case .result: .result
        case .cancel: .cancel
        case .heartbeat: .heartbeat
        case .goodbye: .goodbye
        case .error: .error
        case .status: .status
        case .statusReport: .statusReport
        }
    }
}
