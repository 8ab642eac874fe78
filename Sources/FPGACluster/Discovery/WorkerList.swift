import FPGAExecution
import FPGATransport

// FoundationEssentials, not Foundation: the tools that embed a cluster then link
// neither CoreFoundation nor ICU, which start-up would pay for in every run.
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a cluster's workers are, in the one syntax every tool's `--workers` takes: entries
/// separated by commas, each one of
///
/// - `HOST[:PORT]` or `[IPV6]:PORT`: one worker;
/// - `@FILE`: a hostfile, one `HOST[:PORT]` per line, `#` starting a comment;
/// - `dns:NAME[:PORT]`: every A and AAAA record of `NAME` (a Kubernetes headless Service);
/// - `slurm[:PORT]`: the nodes of the current Slurm job, from `SLURM_JOB_NODELIST`
///   (see ``SlurmHostlist``).
///
/// An entry without a port gets ``defaultPort``. ``resolve(environment:resolver:)`` reads the
/// files, asks DNS and expands the Slurm list, and gives each worker once, in the order found.
public struct WorkerList: Sendable, Hashable, CustomStringConvertible {
    /// One entry of the list.
    public enum Entry: Sendable, Hashable {
        case address(Endpoint)
        case hostfile(path: String)
        case dns(name: String, port: UInt16)
        case slurm(port: UInt16)
    }

    /// The port of a worker whose entry names none: 7070, the port the documentation's
    /// examples give `fpga-worker --listen`.
    public static let standardPort: UInt16 = 7070

    /// The entries, in the order given.
    public let entries: [Entry]
    /// The port of an entry that names none.
    public let defaultPort: UInt16
    /// The text it was parsed from.
    public let description: String

    /// Parses `text` (see the type's description). Throws ``WorkerDiscoveryError/invalidEntry(_:reason:)``
    /// for an entry that is none of the forms, and ``WorkerDiscoveryError/noWorkers(_:)`` for an
    /// empty list.
    public init(parsing text: String, defaultPort: UInt16 = WorkerList.standardPort) throws(WorkerDiscoveryError) {
        var entries: [Entry] = []
        for piece in text.split(separator: ",") {
            let entry = Self.trimmed(piece)
            if entry.isEmpty { continue }
            entries.append(try Self.entry(entry, defaultPort: defaultPort))
        }
        guard !entries.isEmpty else { throw .noWorkers(text) }
        self.entries = entries
        self.defaultPort = defaultPort
        self.description = text
    }

    private static func entry(_ text: String, defaultPort: UInt16) throws(WorkerDiscoveryError) -> Entry {
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard !path.isEmpty else { throw .invalidEntry(text, reason: "@ needs a file name") }
            return .hostfile(path: path)
        }
        if text == "slurm" { return .slurm(port: defaultPort) }
        if text.hasPrefix("slurm:") { return .slurm(port: try port(String(text.dropFirst(6)), in: text)) }
        if text.hasPrefix("dns:") {
            let rest = text.dropFirst(4)
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), !parts[0].isEmpty else {
                throw .invalidEntry(text, reason: "use dns:NAME or dns:NAME:PORT")
            }
            let port = parts.count == 2 ? try port(String(parts[1]), in: text) : defaultPort
            return .dns(name: String(parts[0]), port: port)
        }
        return .address(try endpoint(text, defaultPort: defaultPort))
    }

    /// `HOST`, `HOST:PORT`, `[IPV6]` or `[IPV6]:PORT`.
    static func endpoint(_ text: String, defaultPort: UInt16) throws(WorkerDiscoveryError) -> Endpoint {
        let reason = "use HOST, HOST:PORT or [IPV6]:PORT"
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidEntry(text, reason: reason) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty, rest.isEmpty || rest.hasPrefix(":") else { throw .invalidEntry(text, reason: reason) }
            return Endpoint(host: host, port: rest.isEmpty ? defaultPort : try port(String(rest.dropFirst()), in: text))
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
            parts[0].allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) })
        else {
            throw .invalidEntry(text, reason: parts.count > 2 ? "put an IPv6 address in brackets: [::1]:7070" : reason)
        }
        return Endpoint(
            host: String(parts[0]), port: parts.count == 2 ? try port(String(parts[1]), in: text) : defaultPort)
    }

    private static func port(_ text: String, in entry: String) throws(WorkerDiscoveryError) -> UInt16 {
        guard let port = UInt16(text), port > 0 else {
            throw .invalidEntry(entry, reason: "'\(text)' is not a port (1 to 65535)")
        }
        return port
    }

    /// The workers, each once, in the order the entries give them: hostfiles read, DNS names
    /// looked up with `resolver`, `slurm` expanded from `environment`'s `SLURM_JOB_NODELIST`.
    /// Throws the first ``WorkerDiscoveryError`` of an entry that gives no worker.
    public func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, resolver: DNSResolver = .system
    ) async throws(WorkerDiscoveryError) -> [Endpoint] {
        var found: [Endpoint] = []
        var seen: Set<Endpoint> = []
        func add(_ endpoint: Endpoint) {
            if seen.insert(endpoint).inserted { found.append(endpoint) }
        }
        for entry in entries {
            switch entry {
            case .address(let endpoint):
                add(endpoint)
            case .hostfile(let path):
                for endpoint in try await Self.readHostfile(path, defaultPort: defaultPort) { add(endpoint) }
            case .dns(let name, let port):
                for address in try await resolver.addresses(of: name) { add(Endpoint(host: address, port: port)) }
            case .slurm(let port):
                guard let list = environment["SLURM_JOB_NODELIST"] ?? environment["SLURM_NODELIST"] else {
                    throw .notInSlurmJob
                }
                for host in try SlurmHostlist.expand(list) { add(Endpoint(host: host, port: port)) }
            }
        }
        guard !found.isEmpty else { throw .noWorkers(description) }
        return found
    }

    /// The workers of a hostfile, read on a thread of the blocking pool.
    static func readHostfile(_ path: String, defaultPort: UInt16) async throws(WorkerDiscoveryError) -> [Endpoint] {
        let read: Result<String, WorkerDiscoveryError>
        do {
            read = try await BlockingThreadPool.shared.run { readText(path) }
        } catch {
            throw .unreadableHostfile(path: path, reason: "\(error)")
        }
        return try parseHostfile(try read.get(), path: path, defaultPort: defaultPort)
    }

    /// The whole text of the file at `path`, or the system's reason it cannot be read.
    /// Blocks.
    private static func readText(_ path: String) -> Result<String, WorkerDiscoveryError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            return .failure(
                .unreadableHostfile(path: path, reason: code == ENOENT ? "no such file" : systemErrorMessage(code)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let got = piece.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { return .failure(.unreadableHostfile(path: path, reason: systemErrorMessage())) }
            if got == 0 { return .success(String(decoding: bytes, as: UTF8.self)) }
            bytes += piece[..<got]
        }
    }

    /// `text` without the white space at either end.
    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// The workers of a hostfile's text: one `HOST[:PORT]` per line; blank lines and `#`
    /// comments (whole lines or after an entry) skipped.
    public static func parseHostfile(_ text: String, path: String, defaultPort: UInt16 = standardPort)
        throws(WorkerDiscoveryError) -> [Endpoint]
    {
        var endpoints: [Endpoint] = []
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = trimmed(raw.firstIndex(of: "#").map { raw[..<$0] } ?? raw[...])
            if line.isEmpty { continue }
            guard !line.contains(where: \.isWhitespace) else {
                throw .invalidHostfileLine(path: path, line: number + 1, text: line, reason: "one worker per line")
            }
            do throws(WorkerDiscoveryError) {
                endpoints.append(try endpoint(line, defaultPort: defaultPort))
            } catch {
                var reason = error.description
                if case .invalidEntry(_, let entryReason) = error { reason = entryReason }
                throw .invalidHostfileLine(path: path, line: number + 1, text: line, reason: reason)
            }
        }
        return endpoints
    }
}
