/// The u16 code carried by ERROR, GOODBYE and failed RESULT messages.
///
/// Codes this version does not know are kept as they are, so a newer peer's code survives
/// a round trip and can still be reported.
public struct WireErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// A frame or message body does not follow the specification.
    public static let malformedFrame = WireErrorCode(rawValue: 1)
    /// The peer speaks another protocol version.
    public static let unsupportedVersion = WireErrorCode(rawValue: 2)
    /// A proof did not match, or one side has a token and the other does not.
    public static let authenticationFailed = WireErrorCode(rawValue: 3)
    /// A frame's body is longer than the receiver accepts.
    public static let frameTooLarge = WireErrorCode(rawValue: 4)
    /// A frame's message type is unknown.
    public static let unknownMessage = WireErrorCode(rawValue: 5)
    /// A known message arrived when it is not allowed, such as RUN before the handshake.
    public static let unexpectedMessage = WireErrorCode(rawValue: 6)
    /// A RUN names a device index the worker does not have.
    public static let unknownDevice = WireErrorCode(rawValue: 7)
    /// A RUN names a job kind the worker does not know.
    public static let unknownJob = WireErrorCode(rawValue: 8)
    /// A RUN's parameters are not valid for its job.
    public static let invalidParameters = WireErrorCode(rawValue: 9)
    /// The device failed while running the job.
    public static let deviceFailed = WireErrorCode(rawValue: 10)
    /// The sender is shutting down.
    public static let shuttingDown = WireErrorCode(rawValue: 11)
    /// The device already runs as many jobs as its capacity allows.
    public static let overloaded = WireErrorCode(rawValue: 12)
    /// The run was cancelled before it started.
    public static let cancelled = WireErrorCode(rawValue: 13)
    /// Something took too long.
    public static let timeout = WireErrorCode(rawValue: 14)
    /// An ordinary close: nothing went wrong.
    public static let normalClosure = WireErrorCode(rawValue: 15)

    /// Every code this version defines, in numeric order.
    public static let known: [WireErrorCode] = [
        .malformedFrame, .unsupportedVersion, .authenticationFailed, .frameTooLarge, .unknownMessage,
        .unexpectedMessage, .unknownDevice, .unknownJob, .invalidParameters, .deviceFailed, .shuttingDown,
        .overloaded, .cancelled, .timeout, .normalClosure,
    ]

    /// The code's name and number, such as `authenticationFailed (3)`, or `code 99` for an
    /// unknown one.
    public var description: String {
        let names = [
            "malformedFrame", "unsupportedVersion", "authenticationFailed", "frameTooLarge", "unknownMessage",
            "unexpectedMessage", "unknownDevice", "unknownJob", "invalidParameters", "deviceFailed", "shuttingDown",
            "overloaded", "cancelled", "timeout", "normalClosure",
        ]
        guard rawValue >= 1 && Int(rawValue) <= names.count else { return "code \(rawValue)" }
        return "\(names[Int(rawValue) - 1]) (\(rawValue))"
    }
}
