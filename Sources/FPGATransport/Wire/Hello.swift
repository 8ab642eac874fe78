/// HELLO (type 1), client to worker: opens the handshake.
///
/// Body: u16 protocolVersion, 32-byte clientNonce, string clientName.
public struct Hello: Sendable, Hashable {
    /// The protocol version the client speaks.
    public var protocolVersion: UInt16
    /// 32 random bytes, fresh for each connection.
    public var clientNonce: [UInt8]
    /// A name for logs, such as the host name and process id.
    public var clientName: String

    public init(protocolVersion: UInt16 = WireProtocol.version, clientNonce: [UInt8], clientName: String) {
        self.protocolVersion = protocolVersion
        self.clientNonce = clientNonce
        self.clientName = clientName
    }

    func encode(into writer: inout WireWriter) throws(WireError) {
        writer.u16(protocolVersion)
        try writer.fixed(clientNonce, length: WireProtocol.nonceLength, "clientNonce")
        try writer.string(clientName, "clientName")
    }

    /// Reads the version first and stops there when it is not ours: a later version may
    /// lay out the rest differently.
    static func decode(from reader: inout WireReader) throws(WireError) -> Hello {
        let version = try reader.u16("protocolVersion")
        guard version == WireProtocol.version else { throw .unsupportedVersion(version) }
        let nonce = try reader.fixed(WireProtocol.nonceLength, "clientNonce")
        let name = try reader.string("clientName")
        return Hello(protocolVersion: version, clientNonce: nonce, clientName: name)
    }
}
