import FPGATestSupport
import FPGATestSync
import FPGATransport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real sockets on the loopback interface: a ``TCPListener`` on port 0 and
/// ``TCPConnection``s to it, exercising framing, closing, protocol errors and backpressure.

@Suite("TCP connections over loopback", .timeLimit(stuckTestLimit))
struct TCPConnectionTests {
    // MARK: Round trips

    @Test func largeFrameRoundTripsBothWays() async throws {
        let pair = try await ConnectedPair.make()
        defer { pair.close() }
        let payload = TestData.random(count: 32 << 20, seed: 1)
        let request = RunRequest(deviceIndex: 3, jobKind: "echo", parameters: [1, 2, 3])

        // The payload is larger than the send queue limit, so the sender waits for the
        // reader: send and receive run at the same time.
        let frame = try OutgoingFrame.run(id: 7, request, payload: payload[...])
        async let sent: Void = pair.client.send(frame)
        let atServer = try await withDeadline(stuckWaitLimit, "32 MiB to the server") {
            try await pair.server.receive()
        }
        try await sent
        #expect(atServer.header.type == .run)
        #expect(atServer.header.requestID == 7)
        guard case .run(let received, let body) = try atServer.decodeMessage() else {
            Issue.record("expected RUN, got \(atServer.header.type)")
            return
        }
        #expect(received == request)
        #expect(equalBytes(body, payload[...]), "the 32 MiB payload changed on the way to the server")

        let echo = try OutgoingFrame.result(id: 7, .success, payload: body)
        async let echoed: Void = pair.server.send(echo)
        let atClient = try await withDeadline(stuckWaitLimit, "32 MiB back") { try await pair.client.receive() }
        try await echoed
        #expect(atClient.header.type == .result)
        #expect(atClient.header.requestID == 7)
        guard case .result(.success, let back) = try atClient.decodeMessage() else {
            Issue.record("expected a successful RESULT, got \(atClient.header.type)")
            return
        }
        #expect(equalBytes(back, payload[...]), "the 32 MiB payload changed on the way back")
    }

    @Test func smallFramesArriveInOrderBothWays() async throws {
        let pair = try await ConnectedPair.make()
        defer { pair.close() }
        let count = 1000
        try await withDeadline(stuckWaitLimit, "1000 frames each way") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Client to server: heartbeats numbered 0..<1000.
                group.addTask {
                    for index in 0..<count {
                        try await pair.client.send(.heartbeat(Heartbeat(timestampMilliseconds: UInt64(index))))
                    }
                }
                // Server to client: RUNs numbered 1...1000 whose payload is the id's bytes.
                group.addTask {
                    for id in 1...count {
                        let request = RunRequest(deviceIndex: 0, jobKind: "echo")
                        try await pair.server.send(try .run(id: UInt64(id), request, payload: idBytes(UInt64(id))[...]))
                    }
                }
                group.addTask {
                    for index in 0..<count {
                        let frame = try await pair.server.receive()
                        #expect(
                            try frame.decodeMessage() == .heartbeat(Heartbeat(timestampMilliseconds: UInt64(index))),
                            "frame \(index) at the server")
                    }
                }
                group.addTask {
                    for id in 1...count {
                        let frame = try await pair.client.receive()
                        #expect(frame.header.requestID == UInt64(id), "frame \(id) at the client")
                        guard case .run(_, let payload) = try frame.decodeMessage() else {
                            Issue.record("frame \(id) at the client is \(frame.header.type), not RUN")
                            continue
                        }
                        #expect(Array(payload) == idBytes(UInt64(id)))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    // MARK: Failures

    @Test func connectingToAClosedPortIsRefused() async throws {
        // A socket bound but not listening holds the port, so nothing else can take it,
        // and the kernel refuses connections to it.
        let holder = try BoundSocket()
        defer { holder.close() }
        let endpoint = Endpoint(host: "127.0.0.1", port: holder.port)
        let error = await #expect(throws: TransportError.self) {
            _ = try await TCPConnection.connect(to: endpoint, timeout: stuckWaitLimit)
        }
        guard case .connectionRefused(let address) = error else {
            Issue.record("expected connectionRefused, got \(String(describing: error))")
            return
        }
        #expect(address == endpoint.description, "the error names \(address), not \(endpoint)")
    }

    @Test func receiveAfterThePeerClosesThrowsClosed() async throws {
        let pair = try await ConnectedPair.make()
        defer { pair.close() }
        // Frames sent before the close still arrive; then receive() reports the close.
        for index in 0..<3 {
            try await pair.server.send(.heartbeat(Heartbeat(timestampMilliseconds: UInt64(index))))
        }
        pair.server.close("test closes the server side")
        for index in 0..<3 {
            let frame = try await withDeadline(stuckWaitLimit, "frame \(index)") { try await pair.client.receive() }
            #expect(try frame.decodeMessage() == .heartbeat(Heartbeat(timestampMilliseconds: UInt64(index))))
        }
        let error = await #expect(throws: TransportError.self) {
            _ = try await withDeadline(stuckWaitLimit, "the close") { try await pair.client.receive() }
        }
        guard case .closed = error else {
            Issue.record("expected closed, got \(String(describing: error))")
            return
        }
        // And again: a closed connection stays closed.
        await #expect(throws: TransportError.self) { _ = try await pair.client.receive() }
        #expect(pair.client.isClosed)
    }

    /// A frame cut into pieces sent one by one arrives whole, however the receiver's reads
    /// fall, and the frames around it are untouched.
    @Test func framesSentInPiecesArriveWhole() async throws {
        let pair = try await ConnectedPair.make()
        defer { pair.close() }
        let payload = TestData.random(count: 100_000, seed: 3)
        let frames = [
            OutgoingFrame.heartbeat(Heartbeat(timestampMilliseconds: 1)),
            try OutgoingFrame.run(id: 7, echoRequest, payload: payload[...]),
            try OutgoingFrame.cancel(id: 7),
        ]
        let stream = frames.flatMap(\.bytes)
        let before = ContinuousClock.now
        let cuts = [0, 3, 16, 17, 20, 1000, 50_000, stream.count - 10, stream.count]
        for (start, end) in zip(cuts, cuts.dropFirst()) {
            try await pair.client.send(OutgoingFrame(head: Array(stream[start..<end])))
        }
        for (index, sent) in frames.enumerated() {
            let frame = try await withDeadline(stuckWaitLimit, "frame \(index)") { try await pair.server.receive() }
            #expect(frame.header.requestID == UInt64(index == 0 ? 0 : 7))
            #expect(equalBytes(frame.body[...], sent.bytes[16...]), "frame \(index) differs")
        }
        // The time of the last complete frame: after the first piece was sent.
        #expect(pair.server.lastFrameReceived >= before)
    }

    @Test func aPeerClosingInTheMiddleOfAFrameIsReported() async throws {
        let pair = try await ConnectedPair.make()
        defer { pair.close() }
        try await pair.client.send(.heartbeat(Heartbeat(timestampMilliseconds: 9)))
        try await pair.client.send(OutgoingFrame(head: header(type: 8, length: 8) + [1, 2, 3]))
        pair.client.close("test closes mid-frame")
        let whole = try await withDeadline(stuckWaitLimit, "the whole frame") { try await pair.server.receive() }
        #expect(try whole.decodeMessage() == .heartbeat(Heartbeat(timestampMilliseconds: 9)))
        await #expect(throws: TransportError.closed("peer closed the connection in the middle of a frame")) {
            _ = try await withDeadline(stuckWaitLimit, "the close") { try await pair.server.receive() }
        }
    }

    @Test func sendAfterCloseThrows() async throws {
        let pair = try await ConnectedPair.make()
        defer { pair.close() }
        pair.client.close("done")
        let error = await #expect(throws: TransportError.self) {
            try await pair.client.send(.heartbeat(Heartbeat(timestampMilliseconds: 1)))
        }
        guard case .closed = error else {
            Issue.record("expected closed, got \(String(describing: error))")
            return
        }
    }

    /// A header the receiver must reject, and the ERROR code it answers with.
    struct BadHeader: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let code: WireErrorCode
        var testDescription: String { name }
    }

    static let badHeaders: [BadHeader] = [
        BadHeader(name: "bad magic", bytes: header(magic: [0x47, 0x45], type: 8, length: 8), code: .malformedFrame),
        BadHeader(name: "unknown type", bytes: header(type: 0x7f, length: 0), code: .unknownMessage),
        BadHeader(name: "nonzero flags", bytes: header(type: 8, flags: 1, length: 8), code: .malformedFrame),
        BadHeader(name: "body over the limit", bytes: header(type: 5, length: 1 << 20), code: .frameTooLarge),
    ]

    /// The receiver's `receive()` fails with `protocolViolation`; the sender gets ERROR
    /// with the matching code, then the end of the connection.
    @Test(arguments: badHeaders)
    func badHeaderIsAProtocolViolation(_ bad: BadHeader) async throws {
        // A small body limit so that "too large" needs only a 1 MiB announcement.
        let limits = ConnectionLimits(wire: WireLimits(maxBodyLength: 64 << 10))
        let pair = try await ConnectedPair.make(limits: limits)
        defer { pair.close() }
        try await pair.client.send(OutgoingFrame(head: bad.bytes, payload: []))
        try await expectRejected(by: pair, code: bad.code)
        let end = await #expect(throws: TransportError.self) {
            _ = try await withDeadline(stuckWaitLimit, "the end of the connection") { try await pair.client.receive() }
        }
        guard case .closed = end else {
            Issue.record("expected closed after the ERROR, got \(String(describing: end))")
            return
        }
    }

    /// Before the handshake a frame may carry at most `maxBodyLengthBeforeHandshake`
    /// bytes; a larger one is a protocol violation answered with `frameTooLarge`. After
    /// `markHandshakeComplete()` the full limit applies.
    @Test func framesBeforeTheHandshakeAreSmall() async throws {
        let limits = ConnectionLimits(maxBodyLengthBeforeHandshake: 4096)
        let pair = try await ConnectedPair.make(limits: limits, handshakeComplete: false)
        defer { pair.close() }
        let small = [UInt8](repeating: 7, count: 1024)
        try await pair.client.send(.run(id: 1, echoRequest, payload: small[...]))
        let first = try await withDeadline(stuckWaitLimit, "a small frame") { try await pair.server.receive() }
        #expect(first.header.requestID == 1)

        pair.server.markHandshakeComplete()
        let large = [UInt8](repeating: 9, count: 1 << 20)
        try await pair.client.send(.run(id: 2, echoRequest, payload: large[...]))
        let second = try await withDeadline(stuckWaitLimit, "a large frame after the handshake") {
            try await pair.server.receive()
        }
        #expect(second.header.requestID == 2)
        #expect(second.body.count > large.count)
    }

    @Test func aLargeFrameBeforeTheHandshakeIsRejected() async throws {
        let limits = ConnectionLimits(maxBodyLengthBeforeHandshake: 4096)
        let pair = try await ConnectedPair.make(limits: limits, handshakeComplete: false)
        defer { pair.close() }
        let large = [UInt8](repeating: 9, count: 8192)
        try await pair.client.send(.run(id: 1, echoRequest, payload: large[...]))
        try await expectRejected(by: pair, code: .frameTooLarge)
    }

    // MARK: Backpressure

    /// A receiver that never calls `receive()` stops the sender: the connection buffers at
    /// most its limit, TCP fills the socket buffers, and then `send()` stops completing.
    /// Once the receiver reads, every frame arrives intact and in order.
    @Test func aReaderThatFallsBehindHoldsTheSenderBack() async throws {
        let limits = ConnectionLimits(maxBufferedReceiveBytes: 2 << 20, maxQueuedSendBytes: 2 << 20)
        let pair = try await ConnectedPair.make(limits: limits)
        defer { pair.close() }
        let frameCount = 256  // 256 MiB: far more than the limits and socket buffers hold.
        let base = TestData.random(count: 1 << 20, seed: 2)
        let completed = ProgressCounter()

        let sender = Task {
            for id in 1...frameCount {
                try await pair.client.send(try .run(id: UInt64(id), echoRequest, payload: stamped(base, id)[...]))
                completed.advance(to: id)
            }
        }
        defer { sender.cancel() }

        // Waits for each send to complete, one second at most: the sends must stall.
        var sentBeforeStall = 0
        while sentBeforeStall < frameCount,
            await completed.wait(beyond: sentBeforeStall, timeout: .seconds(1)) == .advanced
        {
            sentBeforeStall = completed.count
        }
        // 2 MiB received but not taken, 2 MiB queued to send, plus the socket buffers
        // (a few MiB each way on loopback).
        #expect(sentBeforeStall < 32, "\(sentBeforeStall) of \(frameCount) 1 MiB sends completed with nobody reading")
        #expect(sentBeforeStall < frameCount, "every send completed although nobody read")

        // Now read everything: in order, intact, and the sender finishes.
        try await withDeadline(.seconds(40), "reading \(frameCount) frames") {
            for id in 1...frameCount {
                let frame = try await pair.server.receive()
                guard frame.header.requestID == UInt64(id) else {
                    Issue.record("frame \(id) arrived as \(frame.header.requestID)")
                    return
                }
                guard case .run(_, let payload) = try frame.decodeMessage(),
                    equalBytes(payload, stamped(base, id)[...])
                else {
                    Issue.record("frame \(id) is not the RUN that was sent")
                    return
                }
            }
        }
        try await withDeadline(stuckWaitLimit, "the sender to finish") { try await sender.value }
        #expect(completed.count == frameCount)
    }
}

// MARK: - Helpers

private let echoRequest = RunRequest(deviceIndex: 0, jobKind: "echo", parameters: [])

/// The server end's `receive()` fails with `protocolViolation`, and the client end gets an
/// ERROR frame with `code`.
private func expectRejected(
    by pair: ConnectedPair, code: WireErrorCode, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let error = await #expect(throws: TransportError.self, sourceLocation: sourceLocation) {
        _ = try await withDeadline(stuckWaitLimit, "the receiver's verdict") { try await pair.server.receive() }
    }
    guard case .protocolViolation = error else {
        Issue.record("expected protocolViolation, got \(String(describing: error))", sourceLocation: sourceLocation)
        return
    }
    let answer = try await withDeadline(stuckWaitLimit, "the ERROR frame") { try await pair.client.receive() }
    guard case .error(let message) = try answer.decodeMessage() else {
        Issue.record("expected ERROR, got \(answer.header.type)", sourceLocation: sourceLocation)
        return
    }
    #expect(message.code == code, "ERROR says \(message.code): \(message.message)", sourceLocation: sourceLocation)
}

/// A listener and both ends of one connection to it.
private struct ConnectedPair: Sendable {
    let listener: TCPListener
    let client: TCPConnection
    let server: TCPConnection

    /// Both ends are marked as past the handshake (full frame limit) unless `handshakeComplete`
    /// is false.
    static func make(limits: ConnectionLimits = .default, handshakeComplete: Bool = true) async throws
        -> ConnectedPair
    {
        let listener = try await TCPListener.listen(on: Endpoint(host: "127.0.0.1", port: 0), limits: limits)
        #expect(listener.endpoint.port != 0)
        let client = try await TCPConnection.connect(to: listener.endpoint, limits: limits, timeout: stuckWaitLimit)
        let server = try await withDeadline(stuckWaitLimit, "accepting") { () async throws -> TCPConnection in
            for await connection in listener.connections { return connection }
            throw TransportError.closed("listener ended")
        }
        if handshakeComplete {
            client.markHandshakeComplete()
            server.markHandshakeComplete()
        }
        return ConnectedPair(listener: listener, client: client, server: server)
    }

    func close() {
        client.close()
        server.close()
        listener.close()
    }
}

/// A frame header built by hand, valid or not.
private func header(magic: [UInt8] = [0x46, 0x57], type: UInt8, flags: UInt8 = 0, length: UInt32) -> [UInt8] {
    var bytes = magic + [type, flags]
    withUnsafeBytes(of: length.littleEndian) { bytes += $0 }
    withUnsafeBytes(of: UInt64(0).littleEndian) { bytes += $0 }
    return bytes
}

/// The 8 little-endian bytes of `value`.
private func idBytes(_ value: UInt64) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// `base` with `id` in its first 8 bytes, so that every frame differs.
private func stamped(_ base: [UInt8], _ id: Int) -> [UInt8] {
    var copy = base
    copy.replaceSubrange(0..<8, with: idBytes(UInt64(id)))
    return copy
}

/// Whether two byte ranges are equal (memcmp: fast in debug builds too).
private func equalBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { left in
        b.withUnsafeBytes { right in left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
    }
}

/// A TCP socket bound to a free loopback port and not listening: connections to it are
/// refused.
private struct BoundSocket {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TransportError.connectFailed("socket", reason: "errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            throw TransportError.listenFailed("127.0.0.1:0", reason: "errno \(errno)")
        }
        self.descriptor = descriptor
        self.port = UInt16(bigEndian: address.sin_port)
    }

    func close() { _ = Glibc.close(descriptor) }
}
