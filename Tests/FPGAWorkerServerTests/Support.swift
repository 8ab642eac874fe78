import Clocks
import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATestSupport
import FPGATestSync
import FPGATransport
import FPGAWorkerServer
import Logging
import Synchronization
import Testing

/// A test failure with a message.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs held at a gate: the `hold` job waits until the test opens ``gate``, and counts
/// the runs that reached it.
final class HeldRuns: Sendable {
    static let kind = "hold"
    let gate = AsyncGate()
    private let started = Atomic<Int>(0)
    private let progress = ProgressCounter()

    func hold(_ payload: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> {
        let count = started.add(1, ordering: .relaxed).newValue
        progress.advance(to: count)
        try await gate.wait()
        return payload
    }

    /// Returns once `count` runs have reached the gate.
    func waitForStarts(_ count: Int) async throws {
        guard await progress.wait(beyond: count - 1, timeout: stuckWaitLimit) == .advanced else {
            throw TestFailure("\(count) held runs did not start within \(stuckWaitLimit)")
        }
    }
}

/// A ``WorkerServer`` in this process on a loopback port, with one simulated device, the
/// built-in jobs and `hold`, its time a `TestClock` the test advances by hand.
struct InProcessServer: Sendable {
    let server: WorkerServer
    let endpoint: Endpoint
    let clock: TestClock<Duration>
    let held: HeldRuns
    private let serving: Task<Void, Never>

    /// Heartbeat every second, closed after 3 silent ones, 5 s for the handshake, 2 s of
    /// shutdown grace, unless `configure` says otherwise.
    static func with<T: Sendable>(
        configure: (inout WorkerServer.Configuration) -> Void = { _ in },
        _ body: (InProcessServer) async throws -> T
    ) async throws -> T {
        let clock = TestClock()
        var configuration = WorkerServer.Configuration()
        configuration.heartbeatInterval = .seconds(1)
        configuration.missedHeartbeats = 3
        configuration.handshakeTimeout = .seconds(5)
        configuration.shutdownGrace = .seconds(2)
        configuration.clock = clock
        configure(&configuration)
        let held = HeldRuns()
        var jobs = JobRegistry.builtIn
        jobs.handlers[HeldRuns.kind] = { _, payload, _ in try await held.hold(payload) }
        let node = LocalNode(
            device: SimulatedDevice(name: "sim0", kernels: [GzipCompBlockKernel()]), programs: .builtIn)
        let server = WorkerServer(
            nodes: [node], token: nil, jobs: jobs, configuration: configuration,
            logger: Logger(label: "test-worker") { _ in SwiftLogNoOpLogHandler() })
        let endpoint = try await server.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        let serving = Task { await server.serve() }
        let running = InProcessServer(server: server, endpoint: endpoint, clock: clock, held: held, serving: serving)
        do {
            let result = try await body(running)
            try await running.stop()
            return result
        } catch {
            try? await running.stop()
            throw error
        }
    }

    /// Lets held runs finish, shuts the server down and waits for it to stop serving.
    private func stop() async throws {
        held.gate.open()
        let (server, serving) = (self.server, self.serving)
        try await withDeadline(stuckWaitLimit, "the in-process worker to shut down") {
            await server.shutdown()
            await serving.value
        }
    }
}

/// A client that speaks the wire protocol frame by frame, so a test sees exactly what
/// the server sends and when it closes.
struct ScriptedClient: Sendable {
    let connection: TCPConnection

    static func connect(to endpoint: Endpoint) async throws -> ScriptedClient {
        ScriptedClient(connection: try await TCPConnection.connect(to: endpoint, timeout: stuckWaitLimit))
    }

    func close() { connection.close() }

    func send(_ frame: OutgoingFrame) async throws { try await connection.send(frame) }

    /// Sends HELLO; returns once the server's CHALLENGE arrived.
    func hello() async throws {
        try await send(.hello(Hello(clientNonce: [UInt8](repeating: 7, count: 32), clientName: "scripted")))
        _ = try await next(.challenge, "CHALLENGE")
    }

    /// Sends AUTH (the server has no token); returns the WELCOME.
    func auth() async throws -> Welcome {
        try await send(.auth(Auth()))
        let frame = try await next(.welcome, "WELCOME")
        guard case .welcome(let welcome) = try frame.decodeMessage() else { throw TestFailure("WELCOME undecodable") }
        return welcome
    }

    func handshake() async throws -> Welcome {
        try await hello()
        return try await auth()
    }

    /// The next frame of `type`, dropping heartbeats (unless `type` is one); fails on any
    /// other frame, on the connection closing, or after ``stuckWaitLimit``.
    func next(_ type: MessageType, _ what: String) async throws -> Frame {
        let connection = self.connection
        return try await withDeadline(stuckWaitLimit, "waiting for \(what)") {
            while true {
                let frame: Frame
                do {
                    frame = try await connection.receive()
                } catch {
                    throw TestFailure("waiting for \(what): \(error)")
                }
                if frame.header.type == type { return frame }
                if frame.header.type == .heartbeat { continue }
                throw TestFailure("expected \(what) (\(type)), got \(frame.header.type): \(try frame.decodeMessage())")
            }
        }
    }

    /// Runs `payload` through `echo` as request `id` and checks the result.
    func echo(id: UInt64) async throws {
        let payload = ArraySlice((0..<64).map { UInt8(truncatingIfNeeded: $0 &+ Int(id)) })
        try await send(try .run(id: id, RunRequest(deviceIndex: 0, jobKind: EchoJob.kind), payload: payload))
        let frame = try await next(.result, "the RESULT of echo \(id)")
        #expect(frame.header.requestID == id)
        #expect(try frame.decodeMessage() == .result(.success, payload: payload))
    }

    /// Every frame up to the connection's end, heartbeats left out; fails after
    /// ``stuckWaitLimit``.
    func framesUntilClosed(_ what: String) async throws -> [WireMessage] {
        let connection = self.connection
        return try await withDeadline(stuckWaitLimit, "the server to close the connection: \(what)") {
            var messages: [WireMessage] = []
            while true {
                let frame: Frame
                do {
                    frame = try await connection.receive()
                } catch {
                    return messages
                }
                if frame.header.type != .heartbeat { messages.append(try frame.decodeMessage()) }
            }
        }
    }
}

extension TestClock<Duration> {
    /// Advances to `time` after the clock's start.
    func advance(toOffset time: Duration) async {
        await advance(to: .init(offset: time))
    }
}
