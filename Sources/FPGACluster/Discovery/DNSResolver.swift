import CAres
import FPGAExecution
import FPGATransport
import Synchronization

/// Looks up every address record (A and AAAA) of a name, through c-ares: from the system's
/// resolver configuration (`/etc/resolv.conf`, as a Kubernetes pod has it), or from a server
/// given here (a Consul agent's DNS port, a test's dnsmasq). Each lookup runs on a thread of
/// its own and ends by itself: answered, refused, or `timeout` times `tries` without an answer.
public struct DNSResolver: Sendable, Hashable {
    /// The server to ask (`127.0.0.1:5353`); `nil` for the system's.
    public var server: Endpoint?
    /// How long one try waits for an answer.
    public var timeout: Duration
    /// How many times a lookup is tried before it fails as unanswered.
    public var tries: Int

    public init(server: Endpoint? = nil, timeout: Duration = .seconds(2), tries: Int = 2) {
        self.server = server
        self.timeout = timeout
        self.tries = tries
    }

    /// The system's resolver configuration, 2 s per try, 2 tries.
    public static let system = DNSResolver()

    /// The addresses of `name`, each once, sorted: IPv4 first, then IPv6, each in numeric
    /// order (servers rotate their records; sorted, one set of records always gives the same
    /// workers in the same order). Throws ``WorkerDiscoveryError/noAddresses(_:)`` when the name has none and
    /// ``WorkerDiscoveryError/dnsFailed(_:reason:)`` when the lookup failed.
    public func addresses(of name: String) async throws(WorkerDiscoveryError) -> [String] {
        let lookup = Lookup(name: name, resolver: self)
        let result: Result<[String], WorkerDiscoveryError> = await withCheckedContinuation { continuation in
            startDedicatedThread(name: "fpga-dns") { continuation.resume(returning: lookup.run()) }
        }
        return try result.get()
    }
}

/// One lookup on its own thread: a c-ares channel, its query, and the select loop that drives
/// them until the callback has the answer.
private struct Lookup: Sendable {
    let name: String
    let resolver: DNSResolver

    /// c-ares's library state is set up once per process (its docs ask for one call before any
    /// channel on some platforms; it is reference counted and cheap on Linux).
    private static let initialized: Int32 = ares_library_init(ARES_LIB_INIT_ALL)

    func run() -> Result<[String], WorkerDiscoveryError> {
        guard Self.initialized == ARES_SUCCESS else { return .failure(failure(Self.initialized)) }
        var options = ares_options()
        options.timeout = Int32(
            clamping: resolver.timeout.components.seconds * 1000
                + resolver.timeout.components.attoseconds / 1_000_000_000_000_000)
        options.tries = Int32(clamping: max(1, resolver.tries))
        var channel: ares_channel?
        let status = ares_init_options(&channel, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)
        guard status == ARES_SUCCESS, let channel else { return .failure(failure(status)) }
        defer { ares_destroy(channel) }
        if let server = resolver.server {
            let csv =
                server.host.contains(Character(":"))
                ? "[\(server.host)]:\(server.port)" : "\(server.host):\(server.port)"
            let set = ares_set_servers_ports_csv(channel, csv)
            guard set == ARES_SUCCESS else { return .failure(failure(set)) }
        }
        let answer = Answer()
        var hints = ares_addrinfo_hints()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        ares_getaddrinfo(channel, name, nil, &hints, Lookup.callback, Unmanaged.passUnretained(answer).toOpaque())
        // Drive the query: wait on its sockets until c-ares's own timeout, then let it work.
        while !answer.isDone {
            var readable = fd_set()
            var writable = fd_set()
            let count = ares_fds(channel, &readable, &writable)
            if count == 0 { break }
            var wait = timeval()
            let limit = ares_timeout(channel, nil, &wait)
            _ = select(count, &readable, &writable, nil, limit)
            ares_process(channel, &readable, &writable)
        }
        guard let (status, addresses) = answer.outcome else {
            return .failure(.dnsFailed(name, reason: "the lookup ended without an answer"))
        }
        guard status == ARES_SUCCESS else { return .failure(failure(status)) }
        return addresses.isEmpty ? .failure(.noAddresses(name)) : .success(addresses)
    }

    private func failure(_ status: Int32) -> WorkerDiscoveryError {
        Lookup.error(status, name: name, server: resolver.server)
    }

    static func error(_ status: Int32, name: String, server: Endpoint?) -> WorkerDiscoveryError {
        let from = server.map { "DNS server \($0)" } ?? "the DNS server"
        switch status {
        case ARES_ENOTFOUND, ARES_ENODATA, ARES_ENONAME: return .noAddresses(name)
        case ARES_ETIMEOUT: return .dnsFailed(name, reason: "\(from) did not answer")
        case ARES_ECONNREFUSED: return .dnsFailed(name, reason: "\(from) refused the query")
        case ARES_EBADNAME: return .dnsFailed(name, reason: "not a valid DNS name")
        default: return .dnsFailed(name, reason: String(cString: ares_strerror(status)))
        }
    }

    /// Takes the answer: called on the lookup's thread, from `ares_process` or `ares_destroy`.
    static let callback: ares_addrinfo_callback = { context, status, _, info in
        let answer = Unmanaged<Answer>.fromOpaque(context!).takeUnretainedValue()
        defer { if let info { ares_freeaddrinfo(info) } }
        guard status == ARES_SUCCESS else {
            answer.finish(status: status, addresses: [])
            return
        }
        // Servers rotate their records; sorted, the same records give the same workers in the
        // same order on every lookup.
        var found: [(bytes: [UInt8], text: String)] = []
        var node = info?.pointee.nodes
        while let current = node {
            if let address = current.pointee.ai_addr, let entry = Lookup.address(address, current.pointee.ai_family),
                !found.contains(where: { $0.bytes == entry.bytes })
            {
                found.append(entry)
            }
            node = current.pointee.ai_next
        }
        found.sort {
            $0.bytes.count != $1.bytes.count
                ? $0.bytes.count < $1.bytes.count : $0.bytes.lexicographicallyPrecedes($1.bytes)
        }
        answer.finish(status: status, addresses: found.map(\.text))
    }

    /// The address's bytes (4 for IPv4, 16 for IPv6) and its text.
    static func address(_ address: UnsafeMutablePointer<sockaddr>, _ family: Int32) -> (bytes: [UInt8], text: String)? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let bytes: [UInt8]
        let written: UnsafePointer<CChar>?
        if family == AF_INET6 {
            (bytes, written) = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { raw in
                withUnsafePointer(to: raw.pointee.sin6_addr) {
                    (
                        $0.withMemoryRebound(to: UInt8.self, capacity: 16) {
                            Array(UnsafeBufferPointer(start: $0, count: 16))
                        },
                        inet_ntop(AF_INET6, $0, &buffer, socklen_t(buffer.count))
                    )
                }
            }
        } else if family == AF_INET {
            (bytes, written) = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { raw in
                withUnsafePointer(to: raw.pointee.sin_addr) {
                    (
                        $0.withMemoryRebound(to: UInt8.self, capacity: 4) {
                            Array(UnsafeBufferPointer(start: $0, count: 4))
                        },
                        inet_ntop(AF_INET, $0, &buffer, socklen_t(buffer.count))
                    )
                }
            }
        } else {
            return nil
        }
        guard written != nil else { return nil }
        return (bytes, String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// Where the callback leaves the answer for the loop (both run on the lookup's one thread;
/// the lock makes that need no argument).
private final class Answer: Sendable {
    private let state = Mutex<(status: Int32, addresses: [String])?>(nil)

    var isDone: Bool { state.withLock { $0 != nil } }
    var outcome: (status: Int32, addresses: [String])? { state.withLock { $0 } }

    func finish(status: Int32, addresses: [String]) {
        state.withLock { $0 = (status, addresses) }
    }
}
