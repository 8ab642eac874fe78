import ArgumentParser
import FPGACluster
import FPGATransport

/// The devices a sample tool's cluster runs on, as plain values: simulated FPGAs on this
/// host, the devices of `fpga-worker` processes, or both, and the workers' token.
///
/// ``ClusterOptions`` reads it from the command line (`--local`, `--workers`,
/// `--worker-port`, `--dns-server`, `--token-file`); a tool that reads its own plainest
/// command lines without swift-argument-parser (`fpga-compress`) makes one directly.
public struct ClusterSelection: Sendable, Hashable {
    /// How many simulated FPGAs on this host, or nil for one per core (none with workers).
    public var localDevices: Int?
    /// The workers, in `WorkerList`'s syntax, or nil for none.
    public var workers: String?
    /// The port of workers whose entry names none.
    public var workerPort: UInt16
    /// The DNS server that looks up `dns:NAME` entries, or nil for the system's.
    public var dnsServer: String?
    /// The file holding the workers' token, or nil for `FPGACLUSTER_TOKEN`.
    public var tokenFile: String?

    public init(
        localDevices: Int? = nil, workers: String? = nil, workerPort: UInt16 = WorkerList.standardPort,
        dnsServer: String? = nil, tokenFile: String? = nil
    ) {
        self.localDevices = localDevices
        self.workers = workers
        self.workerPort = workerPort
        self.dnsServer = dnsServer
        self.tokenFile = tokenFile
    }

    /// Throws a `ValidationError` naming the flag when a value is out of range: `--local`
    /// outside 1...256 (0 is allowed with workers), port 0, a DNS server that is not
    /// `HOST:PORT`.
    public func validate() throws {
        if let localDevices, !((workers == nil ? 1 : 0)...256).contains(localDevices) {
            throw ValidationError("--local must be between 1 and 256 (0 is allowed with --workers)")
        }
        guard workerPort > 0 else { throw ValidationError("--worker-port must be between 1 and 65535") }
        if let dnsServer, (try? Endpoint(parsing: dnsServer)) == nil {
            throw ValidationError("--dns-server: '\(dnsServer)' is not HOST:PORT")
        }
    }

    /// The workers' addresses, `HOST:PORT` each, once each: hostfiles read, DNS names looked
    /// up, the Slurm job's nodes expanded. `nil` without workers; throws a
    /// `WorkerDiscoveryError` when an entry gives no worker.
    public func workerAddresses() async throws -> [String]? {
        guard let workers else { return nil }
        var resolver = DNSResolver.system
        if let dnsServer { resolver.server = try Endpoint(parsing: dnsServer) }
        return try await WorkerList(parsing: workers, defaultPort: workerPort).resolve(resolver: resolver)
            .map(\.description)
    }

    /// The token from the token file, else from `FPGACLUSTER_TOKEN`, else `nil`.
    public func token() throws -> AuthToken? {
        try tokenFile.map { try AuthToken.load(file: $0) } ?? AuthToken.fromEnvironment()
    }
}
