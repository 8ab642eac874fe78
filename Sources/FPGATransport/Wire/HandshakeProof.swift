import Crypto

/// The proofs the handshake exchanges: HMAC-SHA256 keyed with the shared token over a
/// role label and both nonces.
///
/// - worker proof: HMAC-SHA256(token, `fpgacluster-worker-v1` ‖ clientNonce ‖ workerNonce)
/// - client proof: HMAC-SHA256(token, `fpgacluster-client-v1` ‖ workerNonce ‖ clientNonce)
///
/// The labels are ASCII without a terminator; the nonces are 32 bytes each.
public enum HandshakeProof: Sendable {
    /// The label that starts the worker proof's message.
    public static let workerLabel = Array("fpgacluster-worker-v1".utf8)
    /// The label that starts the client proof's message.
    public static let clientLabel = Array("fpgacluster-client-v1".utf8)

    /// The proof a worker sends in CHALLENGE.
    public static func worker(token: AuthToken, clientNonce: [UInt8], workerNonce: [UInt8]) -> [UInt8] {
        hmacSHA256(key: token.bytes, parts: [workerLabel, clientNonce, workerNonce])
    }

    /// The proof a client sends in AUTH.
    public static func client(token: AuthToken, workerNonce: [UInt8], clientNonce: [UInt8]) -> [UInt8] {
        hmacSHA256(key: token.bytes, parts: [clientLabel, workerNonce, clientNonce])
    }

    /// Whether `proof` equals `expected`, in time that depends only on their lengths: no
    /// early exit at the first differing byte.
    public static func verify(_ proof: [UInt8], expected: [UInt8]) -> Bool {
        guard proof.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<expected.count { difference |= proof[index] ^ expected[index] }
        return difference == 0
    }

    /// 32 bytes from the system's secure random number generator, for HELLO or CHALLENGE.
    public static func nonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(WireProtocol.nonceLength)
        for _ in 0..<(WireProtocol.nonceLength / 8) {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return bytes
    }

    /// HMAC-SHA256 (RFC 2104) keyed with `key` over the concatenation of `parts`.
    public static func hmacSHA256(key: [UInt8], parts: [[UInt8]]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        for part in parts { hmac.update(data: part) }
        return Array(hmac.finalize())
    }
}
