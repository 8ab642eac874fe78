import FPGATransport
import Testing

@Suite("handshake proofs")
struct HandshakeProofTests {
    let token = try! AuthToken(bytes: Array("correct horse battery staple".utf8))

    @Test func hmacKnownAnswers() {
        // RFC 4231, test case 2.
        let expected = bytes(hex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let key = Array("Jefe".utf8)
        #expect(HandshakeProof.hmacSHA256(key: key, parts: [Array("what do ya want for nothing?".utf8)]) == expected)
        // The parts are concatenated.
        #expect(
            HandshakeProof.hmacSHA256(
                key: key, parts: [Array("what do ya ".utf8), [], Array("want for nothing?".utf8)]) == expected)
        // RFC 4231, test case 6: a key longer than SHA-256's block.
        #expect(
            HandshakeProof.hmacSHA256(
                key: [UInt8](repeating: 0xaa, count: 131),
                parts: [Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)])
                == bytes(hex: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"))
    }

    /// The test vectors of the WireProtocol article, computed independently (Python's hmac).
    @Test func proofKnownAnswers() {
        #expect(
            HandshakeProof.worker(token: token, clientNonce: clientNonce, workerNonce: workerNonce)
                == bytes(hex: "4e5ef342c7c93d5d3a0570f0ef9f9e915c8f701f6d8461ff98304e670c865e56"))
        #expect(
            HandshakeProof.client(token: token, workerNonce: workerNonce, clientNonce: clientNonce)
                == bytes(hex: "e7f3a58674eebf5633e8275ed2bb7710de99205453e9157140abaaf88cebe7d2"))
    }

    @Test func proofsDifferByRoleAndNonceOrder() {
        let worker = HandshakeProof.worker(token: token, clientNonce: clientNonce, workerNonce: workerNonce)
        let client = HandshakeProof.client(token: token, workerNonce: workerNonce, clientNonce: clientNonce)
        let swapped = HandshakeProof.worker(token: token, clientNonce: workerNonce, workerNonce: clientNonce)
        #expect(worker.count == 32 && client.count == 32)
        #expect(worker != client)
        #expect(worker != swapped)
        // A worker proof cannot be replayed as a client proof with the nonces swapped.
        #expect(HandshakeProof.client(token: token, workerNonce: clientNonce, clientNonce: workerNonce) != worker)
        let otherToken = try! AuthToken(bytes: Array("correct horse battery staplf".utf8))
        #expect(HandshakeProof.worker(token: otherToken, clientNonce: clientNonce, workerNonce: workerNonce) != worker)
    }

    @Test func verifyAcceptsOnlyTheExactProof() {
        let expected = HandshakeProof.client(token: token, workerNonce: workerNonce, clientNonce: clientNonce)
        #expect(HandshakeProof.verify(expected, expected: expected))
        for bit in 0..<(expected.count * 8) {
            var changed = expected
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!HandshakeProof.verify(changed, expected: expected))
        }
        #expect(!HandshakeProof.verify(Array(expected.dropLast()), expected: expected))
        #expect(!HandshakeProof.verify(expected + [0], expected: expected))
        #expect(!HandshakeProof.verify([], expected: expected))
        #expect(!HandshakeProof.verify([UInt8](repeating: 0, count: 32), expected: expected))
    }

    @Test func noncesAreFresh() {
        let first = HandshakeProof.nonce()
        let second = HandshakeProof.nonce()
        #expect(first.count == 32 && second.count == 32)
        #expect(first != second)
    }

    @Test func labels() {
        #expect(HandshakeProof.workerLabel == Array("fpgacluster-worker-v1".utf8))
        #expect(HandshakeProof.clientLabel == Array("fpgacluster-client-v1".utf8))
    }
}
