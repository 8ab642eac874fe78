/// HEARTBEAT (type 8), either way: sent when a connection has been idle for a heartbeat
/// interval.
///
/// Body: u64 timestamp in milliseconds, opaque to the receiver.
public struct Heartbeat: Sendable, Hashable {
    /// The sender's clock in milliseconds; the receiver does not interpret it.
    public var timestampMilliseconds: UInt64

    public init(timestampMilliseconds: UInt64) {
        self.timestampMilliseconds = timestampMilliseconds
    }

    func encode(into writer: inout WireWriter) {
        writer.u64(timestampMilliseconds)
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> Heartbeat {
        Heartbeat(timestampMilliseconds: try reader.u64("timestamp"))
    }
}
