/// How much a connection may hold, in each direction.
public struct ConnectionLimits: Sendable, Hashable {
    /// The frame limits of the wire protocol (largest body accepted).
    public var wire: WireLimits
    /// Received frames not yet taken by ``TCPConnection/receive()``, in bytes, above which
    /// the connection stops reading from the socket until the reader catches up.
    public var maxBufferedReceiveBytes: Int
    /// Frames queued for sending, in bytes, above which ``TCPConnection/send(_:)`` waits.
    public var maxQueuedSendBytes: Int
    /// The largest frame body accepted until ``TCPConnection/markHandshakeComplete()``
    /// (never more than ``wire``'s limit): an unauthenticated peer cannot make the other
    /// side hold a large frame. Handshake messages are far smaller.
    public var maxBodyLengthBeforeHandshake: Int

    public init(
        wire: WireLimits = .default, maxBufferedReceiveBytes: Int = 16 << 20, maxQueuedSendBytes: Int = 16 << 20,
        maxBodyLengthBeforeHandshake: Int = 64 << 10
    ) {
        self.wire = wire
        self.maxBufferedReceiveBytes = maxBufferedReceiveBytes
        self.maxQueuedSendBytes = maxQueuedSendBytes
        self.maxBodyLengthBeforeHandshake = maxBodyLengthBeforeHandshake
    }

    /// The frame limits in force before or after the handshake.
    func wireLimits(handshakeComplete: Bool) -> WireLimits {
        handshakeComplete
            ? wire : WireLimits(maxBodyLength: max(0, min(maxBodyLengthBeforeHandshake, wire.maxBodyLength)))
    }

    public static let `default` = ConnectionLimits()
}
