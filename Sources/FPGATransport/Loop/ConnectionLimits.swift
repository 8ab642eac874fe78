/// How much a connection may hold, in each direction.
public struct ConnectionLimits: Sendable, Hashable {
    /// The frame limits of the wire protocol (largest body accepted).
    public var wire: WireLimits
    /// Received frames not yet taken by ``TCPConnection/receive()``, in bytes, above which
    /// the connection stops reading from the socket until the reader catches up.
    public var maxBufferedReceiveBytes: Int
    /// Frames queued for sending, in bytes, above which ``TCPConnection/send(_:)`` waits.
    public var maxQueuedSendBytes: Int

    public init(
        wire: WireLimits = .default, maxBufferedReceiveBytes: Int = 16 << 20, maxQueuedSendBytes: Int = 16 << 20
    ) {
        self.wire = wire
        self.maxBufferedReceiveBytes = maxBufferedReceiveBytes
        self.maxQueuedSendBytes = maxQueuedSendBytes
    }

    public static let `default` = ConnectionLimits()
}
