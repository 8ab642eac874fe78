internal import CLibUV
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A listening TCP socket whose accepted connections arrive as ``connections``.
public final class TCPListener: Sendable {
    /// The address it listens on, with the port the system chose if 0 was asked for.
    public let endpoint: Endpoint
    /// Accepted connections, until ``close()``.
    public let connections: AsyncStream<TCPConnection>
    private let core: ListenerCore

    private init(endpoint: Endpoint, connections: AsyncStream<TCPConnection>, core: ListenerCore) {
        self.endpoint = endpoint
        self.connections = connections
        self.core = core
    }

    deinit { core.close() }

    /// Listens on `endpoint` (port 0 picks a free port).
    public static func listen(
        on endpoint: Endpoint, loop: EventLoop = .shared, limits: ConnectionLimits = .default, backlog: Int32 = 128
    ) async throws -> TCPListener {
        let addresses = try await Resolver.resolve(endpoint, passive: true)
        guard let address = addresses.first else {
            throw TransportError.resolutionFailed(endpoint.host, reason: "no address")
        }
        let descriptor = try Socket.open(family: address.family)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { bind(descriptor, $0, $1) }
        guard bound == 0, Glibc.listen(descriptor, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw TransportError.listenFailed(endpoint.description, reason: reason)
        }
        let port = ResolvedAddress.boundPort(of: descriptor) ?? endpoint.port
        let (stream, continuation) = AsyncStream<TCPConnection>.makeStream()
        let core = ListenerCore(descriptor: descriptor, loop: loop, limits: limits, output: continuation)
        core.start()
        return TCPListener(endpoint: Endpoint(host: endpoint.host, port: port), connections: stream, core: core)
    }

    /// Stops accepting; ends ``connections``.
    public func close() { core.close() }
}

/// `@unchecked Sendable`: `poll`, `closed` and `spare` are only touched on the loop thread; the
/// rest is immutable or thread-safe (`AsyncStream.Continuation`).
private final class ListenerCore: @unchecked Sendable {
    let descriptor: Int32
    let loop: EventLoop
    let limits: ConnectionLimits
    let output: AsyncStream<TCPConnection>.Continuation
    private var poll: UnsafeMutablePointer<uv_poll_t>?
    private var closed = false
    /// A descriptor held in reserve: when the process runs out of descriptors, closing it
    /// makes room to accept a waiting connection and close it at once. Without that the
    /// connection would stay queued, the socket would stay readable, and the loop would
    /// spin on `accept` failing with EMFILE.
    private var spare: Int32 = ListenerCore.openSpare()

    private static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    init(descriptor: Int32, loop: EventLoop, limits: ConnectionLimits, output: AsyncStream<TCPConnection>.Continuation)
    {
        self.descriptor = descriptor
        self.loop = loop
        self.limits = limits
        self.output = output
    }

    func start() {
        loop.execute { [self] context in
            guard !self.closed else { return }
            let handle = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
            uv_poll_init_socket(context.loop, handle, self.descriptor)
            handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
            self.poll = handle
            uv_poll_start(handle, Int32(UV_READABLE.rawValue)) { handle, status, _ in
                let core = Unmanaged<ListenerCore>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
                if status >= 0 { core.acceptAll() }
            }
        }
    }

    /// Loop thread: accepts every pending connection.
    private func acceptAll() {
        while !closed {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(descriptor, $0, &length)
                }
            }
            if client < 0 {
                let code = errno
                if code == EINTR || code == ECONNABORTED { continue }
                if (code == EMFILE || code == ENFILE) && spare >= 0 {
                    Glibc.close(spare)
                    let refused = accept(descriptor, nil, nil)
                    if refused >= 0 { Glibc.close(refused) }
                    spare = Self.openSpare()
                    if refused >= 0 { continue }
                }
                return  // EAGAIN, or out of descriptors with no spare: try again on the next event
            }
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let core = ConnectionCore(descriptor: client, loop: loop, limits: limits)
            core.start()
            output.yield(TCPConnection(core: core, peer: Self.describe(&storage)))
        }
    }

    private static func describe(_ storage: inout sockaddr_storage) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(storage.ss_family)
        let port: UInt16 = withUnsafeBytes(of: &storage) { UInt16($0[2]) << 8 | UInt16($0[3]) }
        withUnsafeMutablePointer(to: &storage) { pointer in
            let raw = UnsafeMutableRawPointer(pointer)
            if family == AF_INET {
                _ = inet_ntop(AF_INET, raw + 4, &text, socklen_t(text.count))
            } else {
                _ = inet_ntop(AF_INET6, raw + 8, &text, socklen_t(text.count))
            }
        }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    func close() {
        loop.execute { [self] _ in
            guard !self.closed else { return }
            self.closed = true
            self.output.finish()
            if self.spare >= 0 {
                Glibc.close(self.spare)
                self.spare = -1
            }
            if let poll = self.poll {
                uv_poll_stop(poll)
                uv_close(UnsafeMutableRawPointer(poll).assumingMemoryBound(to: uv_handle_t.self)) { handle in
                    let core = Unmanaged<ListenerCore>.fromOpaque(handle!.pointee.data).takeRetainedValue()
                    Glibc.close(core.descriptor)
                    handle!.deallocate()
                }
                self.poll = nil
            } else {
                Glibc.close(self.descriptor)
            }
        }
    }
}
