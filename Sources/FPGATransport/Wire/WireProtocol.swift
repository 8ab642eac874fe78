/// Constants of the wire protocol between the cluster client and its worker processes.
///
/// The protocol itself is specified in the WireProtocol article of the FPGACluster documentation.
public enum WireProtocol: Sendable {
    /// The protocol version this package speaks, sent in HELLO and CHALLENGE.
    ///
    /// Version 2 announces each program's capacity in WELCOME; version 3 adds STATUS and
    /// STATUS_REPORT. Versions must match exactly: a peer of another version is refused in
    /// the handshake with `WireError.unsupportedVersion`.
    public static let version: UInt16 = 3
    /// The two bytes every frame starts with: `FW`.
    public static let magic: [UInt8] = [0x46, 0x57]
    /// The most bytes a string field may hold.
    public static let maxStringLength = 4096
    /// The length of the nonces in HELLO and CHALLENGE.
    public static let nonceLength = 32
    /// The length of the proofs in CHALLENGE and AUTH (an HMAC-SHA256).
    public static let proofLength = 32
    /// The heartbeat interval a worker announces unless configured otherwise.
    public static let defaultHeartbeatIntervalMilliseconds: UInt32 = 1000
    /// How many heartbeat intervals of silence make a peer consider the connection lost.
    public static let missedHeartbeatLimit = 5
}
