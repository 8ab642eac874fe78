import Clocks
import FPGACluster
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Synchronization
import Testing

/// A test failure with a message.
struct RemoteTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The worker side of the wire protocol, played frame by frame by the test: a listener
/// on a loopback port whose connections the test accepts, answers or drops, so it sees
/// every frame a ``WorkerConnection`` sends and chooses every frame it receives.
final class ScriptedWorker: Sendable {
    let listener: TCPListener
    private let accepted: AcceptedConnections
    private let taken = Atomic<Int>(0)
    private let acceptor: Task<Void, Never>
    /// The WELCOME the worker answers with: one device, `echo`, 1 s heartbeats.
    static let welcome = Welcome(
        workerID: "scripted", maxBodyLength: 1 << 20, heartbeatIntervalMilliseconds: 1000,
        devices: [
            Welcome.Device(
                index: 0, name: "sim0", kind: .simulated, capacity: 4,
                programs: [Welcome.Program(name: "echo", capacity: 4, kernels: [])])
        ])

    init() async throws {
        let listener = try await TCPListener.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        let accepted = AcceptedConnections()
        self.listener = listener
        self.accepted = accepted
        acceptor = Task {
            for await connection in listener.connections { accepted.append(connection) }
            accepted.progress.end()
        }
    }

    var endpoint: Endpoint { listener.endpoint }

    /// How many connections the client has made so far.
    var connectionCount: Int { accepted.progress.count }

    func close() {
        listener.close()
        acceptor.cancel()
        for connection in accepted.all { connection.close() }
    }

    /// The client's next connection (the first not yet taken by a test).
    func accept(_ what: String) async throws -> WorkerPeer {
        let index = taken.add(1, ordering: .relaxed).newValue - 1
        guard await accepted.progress.wait(beyond: index, timeout: stuckWaitLimit) == .advanced else {
            throw RemoteTestFailure("the client did not connect within \(stuckWaitLimit): \(what)")
        }
        return WorkerPeer(connection: accepted.all[index])
    }

    /// Accepts the next connection and completes its handshake.
    func acceptAndWelcome(_ what: String) async throws -> WorkerPeer {
        let peer = try await accept(what)
        try await Handshake.worker(peer.connection, token: nil, welcome: Self.welcome, timeout: stuckWaitLimit)
        return peer
    }
}

/// The connections a listener accepted, in order, and their count to wait on.
private final class AcceptedConnections: Sendable {
    private let list = Mutex<[TCPConnection]>([])
    let progress = ProgressCounter()

    var all: [TCPConnection] { list.withLock { $0 } }

    func append(_ connection: TCPConnection) {
        let count = list.withLock { list in
            list.append(connection)
            return list.count
        }
        progress.advance(to: count)
    }
}

/// One connection at the scripted worker.
struct WorkerPeer: Sendable {
    let connection: TCPConnection

    func send(_ frame: OutgoingFrame) async throws { try await connection.send(frame) }

    func close() { connection.close("the scripted worker dropped the client") }

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
                    throw RemoteTestFailure("waiting for \(what): \(error)")
                }
                if frame.header.type == type { return frame }
                if frame.header.type == .heartbeat { continue }
                throw RemoteTestFailure("expected \(what) (\(type)), got \(frame.header.type)")
            }
        }
    }

    /// Returns once the client closed the connection (heartbeats before that are dropped).
    func waitForClose(_ what: String) async throws {
        let connection = self.connection
        try await withDeadline(stuckWaitLimit, "the client to close the connection: \(what)") {
            while true {
                let frame: Frame
                do {
                    frame = try await connection.receive()
                } catch {
                    return
                }
                if frame.header.type != .heartbeat {
                    throw RemoteTestFailure("expected the close (\(what)), got \(frame.header.type)")
                }
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

/// The value of `task`, or a failure naming `what` after ``stuckWaitLimit``.
func outcome<T: Sendable>(of task: Task<T, any Error>, _ what: String) async throws -> T {
    try await withTaskCancellationHandler {
        try await withDeadline(stuckWaitLimit, what) { try await task.value }
    } onCancel: {
        task.cancel()
    }
}
