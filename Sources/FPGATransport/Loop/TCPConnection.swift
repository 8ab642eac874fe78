internal import CLibUV
import FPGAExecution
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A TCP connection carrying wire-protocol frames, driven by an ``EventLoop``.
///
/// Frames are read straight into the array that ``receive()`` returns, and written with
/// one `sendmsg` of the header and the payload's own storage, without copying. Both
/// directions are bounded (``ConnectionLimits``): a reader that falls behind stops the
/// socket being read, and senders wait while too much is queued.
public final class TCPConnection: Sendable {
    /// The peer's address, as given or as accepted.
    public let peer: String
    private let core: ConnectionCore

    init(core: ConnectionCore, peer: String) {
        self.core = core
        self.peer = peer
    }

    deinit {
        core.close(reason: .closed("connection released"))
    }

    /// Connects to `endpoint`, giving each of its addresses `timeout` on `clock`.
    public static func connect(
        to endpoint: Endpoint, on loop: EventLoop = .shared, limits: ConnectionLimits = .default,
        timeout: Duration = .seconds(10), clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> TCPConnection {
        let timeline = Timeline(clock: clock)
        let addresses = try await Resolver.resolve(endpoint)
        var lastError: any Error = TransportError.connectionRefused(endpoint.description)
        for address in addresses {
            do {
                let descriptor = try Socket.open(family: address.family)
                let core = ConnectionCore(descriptor: descriptor, loop: loop, limits: limits)
                let connection = TCPConnection(core: core, peer: endpoint.description)
                let deadline = timeline.now + timeout
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await core.connect(to: address, endpoint: endpoint) }
                    group.addTask {
                        try await timeline.sleep(until: deadline)
                        throw TransportError.timedOut("connecting to \(endpoint)")
                    }
                    defer { group.cancelAll() }
                    try await group.next()
                }
                return connection
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Queues a frame and returns once it is written to the socket, or, while less than
    /// the send limit is queued, once it is queued. Throws if the connection is closed.
    public func send(_ frame: OutgoingFrame) async throws {
        try await core.send(frame)
    }

    /// The next frame, waiting for it; throws ``TransportError/closed(_:)`` (or the error
    /// that closed the connection) once every received frame has been taken.
    public func receive() async throws -> Frame {
        try await core.receive()
    }

    /// Closes the connection; pending and later calls fail with `.closed(reason)`. Frames
    /// already queued are written first if the socket takes them at once.
    public func close(_ reason: String = "closed locally") {
        core.close(reason: .closed(reason))
    }

    /// Closes the connection after trying to send `frame` (an ERROR or GOODBYE).
    public func close(after frame: OutgoingFrame, reason: String) {
        core.close(after: frame, reason: .closed(reason))
    }

    /// Whether the connection is closed.
    public var isClosed: Bool { core.isClosed }

    /// Accepts frames up to the full ``ConnectionLimits/wire`` limit from now on; until
    /// then, bodies over ``ConnectionLimits/maxBodyLengthBeforeHandshake`` close the
    /// connection. ``Handshake`` calls it once the peer has proved it knows the token (the
    /// worker, just before its WELCOME) or has welcomed us (the client).
    public func markHandshakeComplete() { core.markHandshakeComplete() }

    /// When the last complete frame arrived.
    public var lastFrameReceived: ContinuousClock.Instant { core.lastFrameReceived }
}

/// Name resolution, off the cooperative pool.
enum Resolver {
    static func resolve(_ endpoint: Endpoint, passive: Bool = false) async throws -> [ResolvedAddress] {
        try await ResolverPool.pool.run { try endpoint.resolve(passive: passive) }
    }
}

enum ResolverPool {
    static let pool = BlockingThreadPool(name: "fpga-dns", threads: 1)
}

/// Socket system calls.
enum Socket {
    static func open(family: Int32) throws(TransportError) -> Int32 {
        let descriptor = socket(
            family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .connectFailed("socket", reason: String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return descriptor
    }
}
