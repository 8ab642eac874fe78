import ArgumentParser
import FPGATransport

/// The options that choose a sample tool's devices: simulated FPGAs on this host
/// (`--local`), the devices of `fpga-worker` processes (`--workers`), or both, and the
/// workers' token (`--token-file`, else `FPGACLUSTER_TOKEN`).
public struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("local"), help: ArgumentHelp("Use N simulated FPGAs (default: one per core).", valueName: "N")
    )
    public var localDevices: Int?

    @Option(
        name: .customLong("workers"),
        help: ArgumentHelp("Use the devices of fpga-worker processes at HOST:PORT,...", valueName: "LIST"))
    public var workers: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("File holding the workers' shared token (else FPGACLUSTER_TOKEN).", valueName: "FILE"))
    public var tokenFile: String?

    public init() {}

    public func validate() throws {
        if let localDevices, !((workers == nil ? 1 : 0)...256).contains(localDevices) {
            throw ValidationError("--local must be between 1 and 256 (0 is allowed with --workers)")
        }
    }

    /// The `--workers` addresses, or `nil` without `--workers`.
    public var workerAddresses: [String]? {
        workers.map { list in
            list.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        }
    }

    /// The token from `--token-file`, else from `FPGACLUSTER_TOKEN`, else `nil`.
    public func token() throws -> AuthToken? {
        try tokenFile.map { try AuthToken.load(file: $0) } ?? AuthToken.fromEnvironment()
    }

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

extension String {
    /// The string without leading and trailing spaces.
    public func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
