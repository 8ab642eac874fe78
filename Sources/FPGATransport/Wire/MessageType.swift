/// The kind of message a frame carries: byte 2 of the frame header.
public enum MessageType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Client to worker: opens the handshake.
    case hello = 1
    /// Worker to client: answers HELLO with the worker's nonce and proof.
    case challenge = 2
    /// Client to worker: the client's proof.
    case auth = 3
    /// Worker to client: the handshake succeeded; describes the worker's devices.
    case welcome = 4
    /// Client to worker: run a job on a device.
    case run = 5
    /// Worker to client: the outcome of a RUN.
    case result = 6
    /// Client to worker: cancel a RUN.
    case cancel = 7
    /// Either way: keeps an idle connection alive.
    case heartbeat = 8
    /// Either way: the sender is closing the connection.
    case goodbye = 9
    /// Either way: the sender found a protocol error and is closing the connection.
    case error = 10
    /// Client to worker: report what every device is doing (protocol version 3).
    case status = 11
    /// Worker to client: the answer to a STATUS, with its request id.
    case statusReport = 12

    /// The message's name in the specification, such as `HELLO`.
    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .challenge: "CHALLENGE"
        case .auth: "AUTH"
        case .welcome: "WELCOME"
        case .run: "RUN"
        case .result: "RESULT"
        case .cancel: "CANCEL"
        case .heartbeat: "HEARTBEAT"
        case .goodbye: "GOODBYE"
        case .error: "ERROR"
        case .status: "STATUS"
        case .statusReport: "STATUS_REPORT"
        }
    }
}
