import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real DNS server for tests: Debian's dnsmasq, on a free UDP port of 127.0.0.1,
/// answering for the names of a hosts file and for nothing else (`--local=/test/`: names
/// under `.test` that it does not know get NXDOMAIN, not a forwarded query).
public final class DNSServerProcess: Sendable {
    /// The server's port on 127.0.0.1.
    public let port: UInt16
    public let child: ChildProcess
    private let directory: TemporaryDirectory

    private init(port: UInt16, child: ChildProcess, directory: TemporaryDirectory) {
        self.port = port
        self.child = child
        self.directory = directory
    }

    /// Starts dnsmasq serving `records` (name and address, several per name allowed).
    public static func start(records: [(name: String, address: String)]) async throws -> DNSServerProcess {
        let directory = try TemporaryDirectory("dnsmasq")
        try directory.write("hosts", Array(records.map { "\($0.address) \($0.name)\n" }.joined().utf8))
        let user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        // A port another process took between the probe and dnsmasq's bind fails its start: try another.
        for _ in 0..<10 {
            let port = try freeUDPPort()
            let child = try await ChildProcess.start(
                "/usr/sbin/dnsmasq",
                arguments: [
                    "--keep-in-foreground", "--log-facility=-", "--port=\(port)", "--listen-address=127.0.0.1",
                    "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/",
                    "--addn-hosts=\(directory.file("hosts"))", "--user=\(user)", "--pid-file=",
                ], input: .held)
            // dnsmasq logs "started" once its sockets are bound, or exits on an error.
            try await waitUntil("dnsmasq to start") { child.errorText.contains("started,") || !child.isRunning }
            if child.isRunning { return DNSServerProcess(port: port, child: child, directory: directory) }
            if !child.errorText.contains("Address already in use") {
                directory.remove()
                throw ToolFailure("dnsmasq did not start: \(child.errorText)")
            }
        }
        directory.remove()
        throw ToolFailure("dnsmasq found no free port")
    }

    /// Stops the server.
    public func stop() {
        child.kill()
        directory.remove()
    }
}

/// A UDP port of 127.0.0.1 that was free a moment ago.
public func freeUDPPort() throws -> UInt16 {
    let socket = try UDPSocket()
    return socket.port
}

/// A bound UDP socket of 127.0.0.1 that never reads nor answers: a DNS server that does not
/// answer. Closed when released.
public final class UDPSocket: Sendable {
    public let port: UInt16
    private let descriptor: Int32

    public init() throws {
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw ToolFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                Glibc.bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            throw ToolFailure("bind: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { Glibc.close(descriptor) }
}
