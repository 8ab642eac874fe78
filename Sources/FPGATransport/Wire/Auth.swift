/// AUTH (type 3), client to worker: the client's proof of knowing the token.
///
/// Body: 32-byte clientProof (zeros when the client has no token).
public struct Auth: Sendable, Hashable {
    /// `HandshakeProof.client(...)`, or 32 zeros without a token.
    public var clientProof: [UInt8]

    public init(clientProof: [UInt8] = [UInt8](repeating: 0, count: WireProtocol.proofLength)) {
        self.clientProof = clientProof
    }

    func encode(into writer: inout WireWriter) throws(WireError) {
        try writer.fixed(clientProof, length: WireProtocol.proofLength, "clientProof")
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> Auth {
        Auth(clientProof: try reader.fixed(WireProtocol.proofLength, "clientProof"))
    }
}
