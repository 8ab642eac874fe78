import FPGACluster
import FPGAKernels
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real `fpga-worker` facing peers that break the protocol: each must be closed (with
/// the right ERROR where the protocol says so) without hurting the worker, which must
/// serve a normal client afterwards.
@Suite("a worker facing hostile peers", .serialized, .timeLimit(stuckTestLimit))
struct HostilePeerTests {
    /// The worker's flags besides `--heartbeat-ms 500`, which ``startWorker(_:environment:)``
    /// adds: a handshake deadline short enough for the slow-HELLO test (whose HELLO takes 12 s
    /// at its pace) and long enough that a normal client's handshake on a loaded machine is
    /// never cut off by it (500 ms was, once, in a full `make test` run; 3 s once on a machine
    /// loaded far beyond two cores).
    /// 10 s: short enough to cut off a HELLO sent a byte per 200 ms (12 s at least) and to
    /// close every hostile peer well within ``closeDeadline``, long enough for the normal
    /// client of `expectServed` to finish its handshake while stress-ng and the rest of the
    /// suite hold both cores (5 s was not: one run under `make test-stress` saw it time out).
    static let workerFlags = ["--handshake-timeout-ms", "10000"]

    /// How long a hostile connection may stay open before the test fails.
    static let closeDeadline = stuckWaitLimit

    // MARK: (a) to (d): bytes that are not the protocol

    @Test func garbageBytesAreRejected() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let verdict = try await HostileAttempt.garbage.run(against: worker)
        #expect(verdict.closed, "\(verdict)")
        #expect(verdict.errorCodes == [.malformedFrame], "\(verdict)")
        try await expectServed(by: worker)
    }

    @Test func unsupportedVersionIsRefused() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let verdict = try await HostileAttempt.futureVersion.run(against: worker)
        #expect(verdict.closed, "\(verdict)")
        #expect(verdict.errorCodes == [.unsupportedVersion], "\(verdict)")
        #expect(verdict.messageTypes == [.error], "nothing but ERROR before the close: \(verdict)")
        try await expectServed(by: worker)
    }

    @Test func hugeBodyIsRefusedBeforeItArrives() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let before = try residentBytes(of: worker.pid)
        let verdict = try await HostileAttempt.hugeBody.run(against: worker)
        #expect(verdict.closed, "\(verdict)")
        #expect(verdict.errorCodes == [.frameTooLarge], "\(verdict)")
        // Refused from the header alone: nothing near 4 GiB was allocated and touched.
        let after = try residentBytes(of: worker.pid)
        #expect(after < before + (64 << 20), "resident \(before >> 20) MiB before, \(after >> 20) MiB after")
        try await expectServed(by: worker)
    }

    @Test func truncatedFrameEndsTheConnection() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let verdict = try await HostileAttempt.truncated.run(against: worker)
        #expect(verdict.closed, "\(verdict)")
        // Closed because the frame cannot be completed, not by the handshake deadline.
        #expect(!verdict.errorCodes.contains(.timeout), "\(verdict)")
        try await expectServed(by: worker)
    }

    // MARK: (e) a peer too slow to finish the handshake

    @Test func slowHelloIsCutOffByTheHandshakeDeadline() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let frame = try OutgoingFrame.hello(Hello(clientNonce: [UInt8](repeating: 7, count: 32), clientName: "slow"))
        let hello = frame.bytes
        let port = try workerPort(worker)
        let (verdict, sent) = try await onThread { () throws -> (Verdict, Int) in
            let peer = try RawPeer(port: port)
            defer { peer.close() }
            let deadline = ContinuousClock.now + Self.closeDeadline
            var sent = 0
            // One byte, then up to 200 ms waiting for the worker to say something.
            while sent < hello.count, ContinuousClock.now < deadline {
                guard peer.send(hello[sent..<(sent + 1)], deadline: deadline) == 1 else { break }
                sent += 1
                if peer.waitReadable(timeout: .milliseconds(200)) { break }
            }
            return (peer.readUntilClosed(deadline: deadline), sent)
        }
        #expect(verdict.closed, "\(verdict)")
        #expect(verdict.errorCodes == [.timeout], "\(verdict)")
        // 60 bytes take at least 12 s at this pace (longer on a loaded machine); the 10 s
        // deadline ends it before the HELLO is complete.
        #expect(sent < hello.count, "\(sent) of \(hello.count) bytes were sent before the worker gave up")
        try await expectServed(by: worker)
    }

    // MARK: (f) the wrong token

    @Test func wrongTokenFailsAuthentication() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("token", Array("correct horse battery staple\n".utf8))
        let worker = try await startWorker(Self.workerFlags + ["--token-file", folder.file("token")])
        defer { worker.stop() }
        let right = try AuthToken.load(file: folder.file("token"))
        let wrong = try AuthToken(bytes: Array("incorrect donkey battery staple".utf8))

        // The wrong token's proof, and no proof at all (a client without a token).
        for token in [wrong, nil] {
            let connection = try await TCPConnection.connect(
                to: try Endpoint(parsing: worker.address), timeout: stuckWaitLimit)
            defer { connection.close() }
            let clientNonce = HandshakeProof.nonce()
            try await connection.send(.hello(Hello(clientNonce: clientNonce, clientName: "impostor")))
            let frame = try await withDeadline(Self.closeDeadline, "CHALLENGE") { try await connection.receive() }
            guard case .challenge(let challenge) = try frame.decodeMessage() else {
                Issue.record("expected CHALLENGE, got \(frame.header.type)")
                continue
            }
            #expect(challenge.authRequired)
            let proof =
                token.map {
                    HandshakeProof.client(token: $0, workerNonce: challenge.workerNonce, clientNonce: clientNonce)
                } ?? [UInt8](repeating: 0, count: 32)
            try await connection.send(.auth(Auth(clientProof: proof)))
            let verdict = try await Verdict.collect(from: connection, deadline: Self.closeDeadline)
            #expect(verdict.closed, "\(verdict)")
            #expect(verdict.errorCodes == [.authenticationFailed], "\(verdict)")
            #expect(verdict.messageTypes == [.error], "no WELCOME: \(verdict)")
        }
        try await expectServed(by: worker, token: right)
    }

    // MARK: (g) a client that sends runs and never reads their results

    @Test func clientThatNeverReadsIsHeldBack() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let residentLimit = 400 << 20
        let connection = try await TCPConnection.connect(
            to: try Endpoint(parsing: worker.address),
            limits: ConnectionLimits(maxBufferedReceiveBytes: 2 << 20, maxQueuedSendBytes: 2 << 20),
            timeout: stuckWaitLimit)
        defer { connection.close() }
        let welcome = try await Handshake.client(connection, token: nil, name: "flood")
        #expect(!welcome.devices.isEmpty)

        let payload = ArraySlice(TestData.random(count: 1 << 20, seed: 0xF100D))
        let request = RunRequest(deviceIndex: 0, jobKind: "echo", parameters: [])
        let maxRuns = 4096  // 4 GiB: far more than any bounded worker takes in.
        let peak = Peak(try residentBytes(of: worker.pid))
        let progress = ProgressCounter()
        let flood = Task {
            defer { progress.end() }
            for id in 1...maxRuns {
                try await connection.send(try .run(id: UInt64(id), request, payload: payload))
                progress.advance(to: id)
                if id % 8 == 0 {
                    let resident = (try? residentBytes(of: worker.pid)) ?? 0
                    peak.record(resident)
                    // Stop before the machine suffers: the bound is already broken.
                    if resident > 2 * residentLimit { return }
                }
            }
        }
        defer { flood.cancel() }

        // Sends until none completes for 2 s, the sender ends (the worker closed the
        // connection), or 15 s pass.
        let started = ContinuousClock.now
        var outcome = ProgressCounter.Wait.advanced
        while outcome == .advanced, ContinuousClock.now - started < .seconds(15) {
            outcome = await progress.wait(beyond: progress.count, timeout: .seconds(2))
        }
        peak.record(try residentBytes(of: worker.pid))
        let sentRuns = progress.count
        #expect(outcome != .advanced, "the worker still took runs after 15 s (\(sentRuns) MiB) without being read")
        #expect(sentRuns < maxRuns, "the worker took all \(maxRuns) MiB of runs without being read")

        // A normal client is served while the flooding connection is still stuck.
        try await expectServed(by: worker)
        peak.record(try residentBytes(of: worker.pid))
        let highest = peak.highest
        #expect(
            highest < residentLimit,
            "worker resident memory peaked at \(highest >> 20) MiB after \(sentRuns) MiB of runs that nobody read")
        #expect(worker.isRunning)
    }

    // MARK: (h) many at once

    @Test func twentyHostilePeersAtOnce() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let attempts: [HostileAttempt] = Array(
            repeating: [.garbage, .futureVersion, .hugeBody, .truncated], count: 5
        ).flatMap { $0 }
        let verdicts = try await withThrowingTaskGroup(of: (HostileAttempt, Verdict).self) { group in
            for attempt in attempts {
                group.addTask { (attempt, try await attempt.run(against: worker)) }
            }
            var verdicts: [(HostileAttempt, Verdict)] = []
            for try await result in group { verdicts.append(result) }
            return verdicts
        }
        #expect(verdicts.count == 20)
        for (attempt, verdict) in verdicts {
            #expect(verdict.closed, "\(attempt): \(verdict)")
            if let code = attempt.expectedCode {
                #expect(verdict.errorCodes == [code], "\(attempt): \(verdict)")
            }
        }
        try await expectServed(by: worker)
    }

    // MARK: Out of descriptors

    /// A worker out of file descriptors accepts each waiting connection and closes it at
    /// once (a descriptor kept in reserve makes room), rather than leaving it queued while
    /// its listening socket stays readable and `accept` fails in a loop. The refused
    /// connections end without a frame, where an accepted one would get the handshake's
    /// timeout ERROR; with descriptors free again the worker serves as before.
    @Test func runningOutOfDescriptorsClosesTheExtraConnections() async throws {
        let worker = try await startWorker(["--handshake-timeout-ms", "5000"])
        defer { worker.stop() }
        let pid = worker.pid
        let port = try workerPort(worker)
        try await limitDescriptors(of: pid, to: try openDescriptors(of: pid) + 2)
        let verdicts = try await onThread {
            let peers = try (0..<8).map { _ in try RawPeer(port: port) }
            defer { for peer in peers { peer.close() } }
            // Refused connections close at once and accepted ones with the handshake's
            // timeout ERROR after 5 s: the frames tell them apart, so the deadline only
            // bounds the wait and can be generous.
            return peers.map { $0.readUntilClosed(deadline: .now + .seconds(20)) }
        }
        let refused = verdicts.filter { $0.closed && $0.frames.isEmpty }.count
        #expect(refused >= 5, "\(verdicts)")
        #expect(worker.isRunning)
        try await limitDescriptors(of: pid, to: 1024)
        try await expectServed(by: worker)
    }

    // MARK: Mutated HELLOs

    /// 200 connections, each sending a valid HELLO mutated at random (seeded): each must be
    /// closed by the worker (at once for a bad frame, by the handshake deadline for a HELLO
    /// still valid or a frame still incomplete), and the worker stays up.
    @Test func mutatedHellosNeverHurtTheWorker() async throws {
        let worker = try await startWorker(Self.workerFlags)
        defer { worker.stop() }
        let port = try workerPort(worker)
        let hello = try OutgoingFrame.hello(Hello(clientNonce: [UInt8](0..<32), clientName: "fuzz-client")).bytes
        var random = SplitMix64(seed: 0x4845_4c4c_4f21)
        let inputs = (0..<200).map { _ in mutated(hello, using: &random) }

        let batch = 50
        var verdicts: [Verdict] = []
        for start in stride(from: 0, to: inputs.count, by: batch) {
            let slice = Array(inputs[start..<min(start + batch, inputs.count)])
            verdicts += try await withThrowingTaskGroup(of: Verdict.self) { group in
                for bytes in slice {
                    group.addTask {
                        try await onThread {
                            let peer = try RawPeer(port: port)
                            defer { peer.close() }
                            let deadline = ContinuousClock.now + Self.closeDeadline
                            _ = peer.send(bytes[...], deadline: deadline)
                            return peer.readUntilClosed(deadline: deadline)
                        }
                    }
                }
                var verdicts: [Verdict] = []
                for try await verdict in group { verdicts.append(verdict) }
                return verdicts
            }
            #expect(worker.isRunning, "the worker died during connections \(start)..<\(start + batch)")
        }
        #expect(verdicts.count == inputs.count)
        let open = verdicts.filter { !$0.closed }
        #expect(open.isEmpty, "\(open.count) connections were left open, such as \(open.first.map { "\($0)" } ?? "")")
        // Some mutations keep a valid HELLO (CHALLENGE answers it, then the deadline ends the
        // handshake), most do not (ERROR).
        #expect(verdicts.contains { $0.messageTypes.contains(.challenge) })
        #expect(verdicts.contains { $0.messageTypes.contains(.error) })
        try await expectServed(by: worker)
    }
}

// MARK: - Hostile peers

/// One of the hostile things a raw peer does before the handshake.
enum HostileAttempt: Sendable, CustomStringConvertible {
    /// 64 KiB of random bytes.
    case garbage
    /// A HELLO of protocol version 99.
    case futureVersion
    /// A header announcing a body of 4 GiB - 1 bytes.
    case hugeBody
    /// A header announcing 1000 bytes, 10 of them, then the end of the stream.
    case truncated

    var description: String {
        switch self {
        case .garbage: "64 KiB of garbage"
        case .futureVersion: "HELLO of version 99"
        case .hugeBody: "a 4 GiB body"
        case .truncated: "a truncated frame"
        }
    }

    /// The ERROR code the worker must answer with, if it answers.
    var expectedCode: WireErrorCode? {
        switch self {
        case .garbage: .malformedFrame
        case .futureVersion: .unsupportedVersion
        case .hugeBody: .frameTooLarge
        case .truncated: nil
        }
    }

    var bytes: [UInt8] {
        switch self {
        case .garbage:
            var bytes = TestData.random(count: 64 << 10, seed: 0x6a72_6261_6765)
            bytes[0] = 0x00  // never "FW" by chance
            return bytes
        case .futureVersion:
            let hello = Hello(protocolVersion: 99, clientNonce: [UInt8](repeating: 1, count: 32), clientName: "future")
            return (try? OutgoingFrame.hello(hello).bytes) ?? []
        case .hugeBody:
            return rawHeader(type: MessageType.hello.rawValue, length: UInt32.max)
        case .truncated:
            return rawHeader(type: MessageType.hello.rawValue, length: 1000) + [UInt8](repeating: 0x42, count: 10)
        }
    }

    /// Connects, sends the bytes, closes the sending side for a truncated frame, and reads
    /// until the worker closes the connection.
    func run(against worker: WorkerProcess) async throws -> Verdict {
        let port = try workerPort(worker)
        let bytes = self.bytes
        let halfClose = self == .truncated
        return try await onThread {
            let peer = try RawPeer(port: port)
            defer { peer.close() }
            let deadline = ContinuousClock.now + HostilePeerTests.closeDeadline
            _ = peer.send(bytes[...], deadline: deadline)
            if halfClose { peer.shutdownWrite() }
            return peer.readUntilClosed(deadline: deadline)
        }
    }
}

/// How a connection ended, and what the worker sent before.
struct Verdict: Sendable, CustomStringConvertible {
    enum End: Sendable, Equatable {
        /// The worker closed the connection (FIN).
        case endOfStream
        /// The worker reset the connection (it closed with our bytes unread).
        case reset
        /// The connection was still open at the deadline.
        case stillOpen
        /// Something else failed.
        case failed(String)
    }

    var frames: [Frame]
    var end: End
    /// Bytes after the last whole frame, or a reason they did not decode.
    var trailing: String?

    var closed: Bool { end == .endOfStream || end == .reset }
    var messageTypes: [MessageType] { frames.map(\.header.type) }
    var errorCodes: [WireErrorCode] {
        frames.compactMap { frame in
            if case .error(let message)? = try? frame.decodeMessage() { return message.code }
            return nil
        }
    }

    var description: String {
        let errors = frames.compactMap { frame -> String? in
            guard case .error(let message)? = try? frame.decodeMessage() else { return nil }
            return "\(message.code): \(message.message)"
        }
        return "end \(end), frames \(messageTypes), errors \(errors)\(trailing.map { ", trailing: \($0)" } ?? "")"
    }

    /// Frames from the bytes a raw peer read.
    init(bytes: [UInt8], end: End) {
        var decoder = FrameDecoder()
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try decoder.feed(raw) } }
        switch result {
        case .success(let frames):
            self.frames = frames
            trailing = decoder.bufferedByteCount > 0 ? "\(decoder.bufferedByteCount) bytes" : nil
        case .failure(let error):
            frames = []
            trailing = "undecodable: \(error)"
        }
        self.end = end
    }

    init(frames: [Frame], end: End) {
        self.frames = frames
        self.end = end
    }

    /// Receives from `connection` until it closes or `deadline` passes.
    static func collect(from connection: TCPConnection, deadline: Duration) async throws -> Verdict {
        let collected = Mutex<[Frame]>([])
        do {
            try await withDeadline(deadline, "the worker to close the connection") {
                while true {
                    let frame = try await connection.receive()
                    collected.withLock { $0.append(frame) }
                }
            }
        } catch TransportError.closed {
            return Verdict(frames: collected.withLock { $0 }, end: .endOfStream)
        } catch TransportError.timedOut {
            return Verdict(frames: collected.withLock { $0 }, end: .stillOpen)
        }
        return Verdict(frames: collected.withLock { $0 }, end: .failed("receive ended without an error"))
    }
}

/// A plain TCP client socket that sends exact bytes, can close its sending side, and reads
/// until the peer closes, with deadlines (poll). Its calls block: use it on a thread of its
/// own (``onThread(_:)``).
final class RawPeer: @unchecked Sendable {
    // `@unchecked Sendable`: used by one thread at a time (the one `onThread` runs).
    let descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ToolFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw ToolFailure("connect to 127.0.0.1:\(port): \(reason)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// Sends `bytes` until done, the peer goes away, or `deadline`; returns the count sent.
    func send(_ bytes: ArraySlice<UInt8>, deadline: ContinuousClock.Instant) -> Int {
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL))
            }
            if result > 0 {
                done += result
                continue
            }
            if result < 0 && errno == EINTR { continue }
            guard result < 0, errno == EAGAIN || errno == EWOULDBLOCK else { return done }
            guard wait(for: Int16(POLLOUT), until: deadline) else { return done }
        }
        return done
    }

    /// Closes the sending side: the peer reads the end of the stream.
    func shutdownWrite() { _ = Glibc.shutdown(descriptor, Int32(SHUT_WR)) }

    /// Whether there is something to read (or the peer closed) within `timeout`.
    func waitReadable(timeout: Duration) -> Bool {
        wait(for: Int16(POLLIN), until: .now + timeout)
    }

    /// Reads until the peer closes the connection or `deadline` passes.
    func readUntilClosed(deadline: ContinuousClock.Instant) -> Verdict {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
                continue
            }
            if count == 0 { return Verdict(bytes: received, end: .endOfStream) }
            let code = errno
            if code == EINTR { continue }
            if code == ECONNRESET { return Verdict(bytes: received, end: .reset) }
            guard code == EAGAIN || code == EWOULDBLOCK else {
                return Verdict(bytes: received, end: .failed(String(cString: strerror(code))))
            }
            guard wait(for: Int16(POLLIN), until: deadline) else { return Verdict(bytes: received, end: .stillOpen) }
        }
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Polls for `events` until `deadline`; true when they (or an error, or a hang-up) came.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - .now
            guard left > .zero else { return false }
            let milliseconds = Int32(
                min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let result = poll(&entry, 1, milliseconds)
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return true }  // let the caller's call report it
        }
    }
}

// MARK: - Helpers

/// Runs blocking `work` on a thread of its own, so that blocking never holds a thread of
/// the cooperative pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// The worker's port, from its `listening on` address.
func workerPort(_ worker: WorkerProcess) throws -> UInt16 {
    try Endpoint(parsing: worker.address).port
}

/// A frame header built by hand.
func rawHeader(type: UInt8, length: UInt32, requestID: UInt64 = 0) -> [UInt8] {
    var bytes: [UInt8] = WireProtocol.magic + [type, 0]
    withUnsafeBytes(of: length.littleEndian) { bytes += $0 }
    withUnsafeBytes(of: requestID.littleEndian) { bytes += $0 }
    return bytes
}

/// The worker's resident memory (VmRSS) in bytes.
func residentBytes(of pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { throw ToolFailure("no VmRSS for process \(pid)") }
    return kilobytes << 10
}

/// A 1 MiB log-like sample, compressed by `worker` through a normal client, must equal what
/// an embedded cluster of one simulated device makes of it.
func expectServed(
    by worker: WorkerProcess, token: AuthToken? = nil, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    #expect(worker.isRunning, "the worker is gone", sourceLocation: sourceLocation)
    let sample = TestData.logLines(count: 1 << 20, seed: 11)
    let configuration = Cluster.Configuration(chunkSize: 64 << 10)
    let expected = try await Cluster(devices: .simulated(count: 1), configuration: configuration).compress(sample)
    let gz: [UInt8]
    do {
        gz = try await withDeadline(stuckWaitLimit, "a normal client's job") {
            let cluster = try await Cluster(
                workers: [worker.address], token: token,
                configuration: testConfiguration(chunkSize: configuration.chunkSize))
            return try await cluster.compress(sample)
        }
    } catch {
        // What the worker logged says why it turned a normal client away.
        throw ToolFailure("a normal client was not served: \(error); the worker's log:\n\(worker.errorOutput)")
    }
    expectSameBytes(gz, expected, sourceLocation: sourceLocation)
}

/// The highest value seen.
final class Peak: Sendable {
    private let value: Mutex<Int>

    init(_ value: Int) { self.value = Mutex(value) }

    var highest: Int { value.withLock { $0 } }

    func record(_ candidate: Int) { value.withLock { $0 = max($0, candidate) } }
}

/// `bytes` with one to four random changes: flipped bits, changed or deleted bytes, a cut,
/// bytes appended, or a different body length in the header.
func mutated(_ bytes: [UInt8], using random: inout SplitMix64) -> [UInt8] {
    var bytes = bytes
    for _ in 0..<Int.random(in: 1...4, using: &random) {
        guard !bytes.isEmpty else { break }
        let index = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<7, using: &random) {
        case 0: bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
        case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
        case 2: bytes.remove(at: index)
        case 3: bytes.removeSubrange(index...)
        case 4:
            bytes += (0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        case 5:
            // Only the header's fields: magic, type, flags, length.
            bytes[Int.random(in: 0..<min(8, bytes.count), using: &random)] = UInt8.random(in: 0...255, using: &random)
        default:
            if bytes.count >= 8 {
                let length = UInt32.random(in: 0...UInt32.max, using: &random)
                withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(4..<8, with: $0) }
            }
        }
    }
    return bytes
}

/// Sets the worker process's soft descriptor limit to `limit` (at most its hard limit), with
/// util-linux's `prlimit` (Swift does not import the `prlimit` function).
func limitDescriptors(of pid: Int32, to limit: Int) async throws {
    let result = try await ExternalTools.run(["prlimit", "--pid", "\(pid)", "--nofile=\(limit):"])
    guard result.status == 0 else { throw ToolFailure("prlimit: \(result.error)") }
}

/// How many descriptors the process has open.
func openDescriptors(of pid: Int32) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
}
