/// Why a connection could not be made or went away.
public enum TransportError: Error, Hashable, CustomStringConvertible, Sendable {
    /// An address that is not `HOST:PORT` (or `[IPV6]:PORT`).
    case invalidAddress(String)
    /// The host name did not resolve.
    case resolutionFailed(String, reason: String)
    /// Nothing listens at the address.
    case connectionRefused(String)
    /// Connecting failed for another reason.
    case connectFailed(String, reason: String)
    /// Listening failed (address in use, permission, ...).
    case listenFailed(String, reason: String)
    /// An operation took longer than its deadline.
    case timedOut(String)
    /// The connection is closed: by the peer, by us, or after an error.
    case closed(String)
    /// The peer broke the wire protocol; the connection was closed.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .invalidAddress(let text): "invalid address '\(text)' (expected HOST:PORT)"
        case .resolutionFailed(let host, let reason): "cannot resolve \(host): \(reason)"
        case .connectionRefused(let address): "connection refused by \(address)"
        case .connectFailed(let address, let reason): "cannot connect to \(address): \(reason)"
        case .listenFailed(let address, let reason): "cannot listen on \(address): \(reason)"
        case .timedOut(let what): "timed out: \(what)"
        case .closed(let reason): "connection closed: \(reason)"
        case .protocolViolation(let reason): "protocol violation: \(reason)"
        }
    }
}
