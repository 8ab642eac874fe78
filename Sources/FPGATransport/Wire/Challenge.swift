/// CHALLENGE (type 2), worker to client: the worker's nonce and, when it has a token, its
/// proof of knowing it.
///
/// Body: u16 protocolVersion, 32-byte workerNonce, u8 authRequired (0 or 1), 32-byte
/// workerProof (zeros when authRequired is 0).
public struct Challenge: Sendable, Hashable {
    /// The protocol version the worker speaks.
    public var protocolVersion: UInt16
    /// 32 random bytes, fresh for each connection.
    public var workerNonce: [UInt8]
    /// Whether the worker has a token, and so requires the client to prove it has it too.
    public var authRequired: Bool
    /// `HandshakeProof.worker(...)` when `authRequired`, else 32 zeros.
    public var workerProof: [UInt8]

    public init(
        protocolVersion: UInt16 = WireProtocol.version, workerNonce: [UInt8], authRequired: Bool,
        workerProof: [UInt8] = [UInt8](repeating: 0, count: WireProtocol.proofLength)
    ) {
        self.protocolVersion = protocolVersion
        self.workerNonce = workerNonce
        self.authRequired = authRequired
        self.workerProof = workerProof
    }

    func encode(into writer: inout WireWriter) throws(WireError) {
        writer.u16(protocolVersion)
        try writer.fixed(workerNonce, length: WireProtocol.nonceLength, "workerNonce")
        writer.u8(authRequired ? 1 : 0)
        try writer.fixed(workerProof, length: WireProtocol.proofLength, "workerProof")
    }

    /// Reads the version first and stops there when it is not ours.
    static func decode(from reader: inout WireReader) throws(WireError) -> Challenge {
        let version = try reader.u16("protocolVersion")
        guard version == WireProtocol.version else { throw .unsupportedVersion(version) }
        let nonce = try reader.fixed(WireProtocol.nonceLength, "workerNonce")
        let required = try reader.u8("authRequired")
        guard required <= 1 else { throw .malformed("CHALLENGE authRequired is \(required), not 0 or 1") }
        let proof = try reader.fixed(WireProtocol.proofLength, "workerProof")
        return Challenge(protocolVersion: version, workerNonce: nonce, authRequired: required == 1, workerProof: proof)
    }
}
