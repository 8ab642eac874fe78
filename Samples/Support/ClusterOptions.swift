import ArgumentParser
import FPGACluster
import FPGATransport

/// The options that choose a sample tool's devices: simulated FPGAs on this host
/// (`--local`), the devices of `fpga-worker` processes (`--workers`, in `WorkerList`'s
/// syntax: addresses, `@FILE`, `dns:NAME[:PORT]`, `slurm`), or both, and the workers' token
/// (`--token-file`, else `FPGACLUSTER_TOKEN`). ``selection`` is what they chose.
public struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("local"), help: ArgumentHelp("Use N simulated FPGAs (default: one per core).", valueName: "N")
    )
    public var localDevices: Int?

    @Option(
        name: .customLong("workers"),
        help: ArgumentHelp(
            "Use the devices of fpga-worker processes: HOST[:PORT], @HOSTFILE, dns:NAME[:PORT] or slurm, comma-separated.",
            valueName: "LIST"))
    public var workers: String?

    @Option(
        name: .customLong("worker-port"),
        help: ArgumentHelp("The port of workers whose entry names none.", valueName: "PORT"))
    public var workerPort: UInt16 = WorkerList.standardPort

    @Option(
        name: .customLong("dns-server"),
        help: ArgumentHelp(
            "Look up --workers dns:NAME on this server (such as a Consul agent's 127.0.0.1:8600) instead of the system's.",
            valueName: "HOST:PORT"))
    public var dnsServer: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("File holding the workers' shared token (else FPGACLUSTER_TOKEN).", valueName: "FILE"))
    public var tokenFile: String?

    public init() {}

    /// What the options chose, as plain values.
    public var selection: ClusterSelection {
        ClusterSelection(
            localDevices: localDevices, workers: workers, workerPort: workerPort, dnsServer: dnsServer,
            tokenFile: tokenFile)
    }

    public func validate() throws { try selection.validate() }

    /// The hint for a worker that turned the tool away for want of a token (the
    /// library's message names no flag), or `nil` for any other error.
    public static func hint(for error: any Error) -> String? {
        error as? WireError == .tokenRequired ? "use --token-file" : nil
    }

    /// An unreachable worker's reason, as `Cluster.unreachableWorkers` gives it, with the
    /// hint of ``hint(for:)`` when the worker wanted a token.
    public static func reason(_ reason: String) -> String {
        reason == WireError.tokenRequired.description ? "\(reason) (use --token-file)" : reason
    }
}
