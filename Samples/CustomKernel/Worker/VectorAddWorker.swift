import ArgumentParser
import FPGACluster
import FPGADevice
import FPGATransport
import FPGAWorkerServer
import Foundation
import Logging
import VectorAdd

/// `fpga-vadd-worker`: a worker process that serves simulated `krnl_vadd` devices to
/// `fpga-vadd` (or any client of the `vadd` job) over TCP.
@main
struct VectorAddWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-vadd-worker",
        abstract: "Serve simulated krnl_vadd devices to FPGACluster clients over TCP.",
        discussion: """
            Serves --devices simulated devices, each with the vadd program, and runs the \
            built-in jobs and the vadd job for its clients. The first line on standard output \
            is "listening on HOST:PORT" (the port chosen when 0 is given). Clients \
            authenticate with the token from --token-file or the FPGACLUSTER_TOKEN environment \
            variable; without one, only a loopback address is allowed. With \
            --exit-with-stdin, the worker shuts down gracefully (it finishes the runs in \
            flight) when its standard input ends; SIGINT and SIGTERM end it at once.
            """)

    @Option(help: ArgumentHelp("Address to listen on (port 0 picks a free port).", valueName: "HOST:PORT"))
    var listen: String

    @Option(help: ArgumentHelp("Simulated devices to serve.", valueName: "N"))
    var devices = 2

    @Option(
        name: .customLong("compute-units"),
        help: ArgumentHelp("Compute units of krnl_vadd on each device (1 to 4).", valueName: "N"))
    var computeUnits = 2

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the shared token.", valueName: "FILE"))
    var tokenFile: String?

    @Flag(name: [.short, .long], help: "Log every connection and run on standard error.")
    var verbose = false

    @Flag(
        name: .customLong("exit-with-stdin"),
        help: "Shut down gracefully when standard input ends (tie the worker to its supervisor's pipe).")
    var exitWithStandardInput = false

    /// Parses the arguments and runs, turning every error into one line on standard error
    /// and a nonzero exit (ArgumentParser's own messages included; `--help` prints help).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = message(for: error)
            let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("fpga-vadd-worker: \(line)\n".utf8))
            Foundation.exit(code == .validationFailure ? code.rawValue : 1)
        }
    }

    func validate() throws {
        guard (1...64).contains(devices) else { throw ValidationError("--devices must be 1 to 64") }
        guard Xclbin.vectorAddComputeUnits.contains(computeUnits) else {
            throw ValidationError("--compute-units must be 1 to \(Xclbin.vectorAddComputeUnits.upperBound)")
        }
    }

    func run() async throws {
        let endpoint = try Endpoint(parsing: listen)
        let token =
            try tokenFile.map { path throws(AuthTokenError) in try AuthToken.load(file: path) }
            ?? AuthToken.fromEnvironment()
        guard token != nil || endpoint.isLoopback else {
            throw ValidationError(
                "listening on \(endpoint) needs a token: give --token-file FILE or set FPGACLUSTER_TOKEN")
        }
        // One node per simulated device, each able to load the vadd program.
        let programs = try ProgramLibrary.vectorAdd(computeUnits: computeUnits)
        let nodes = [any Device].simulatedVectorAdd(count: devices).map { LocalNode(device: $0, programs: programs) }
        // The jobs this worker runs: the built-in ones, and vadd.
        var jobs = JobRegistry.builtIn
        jobs.register(VectorAddJob.self)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        var configuration = WorkerServer.Configuration()
        configuration.workerID = "fpga-vadd-worker \(endpoint)"
        let server = WorkerServer(
            nodes: nodes, token: token, jobs: jobs, configuration: configuration,
            logger: Logger(label: "fpga-vadd-worker"))
        let bound = try await server.listen(on: endpoint)
        if exitWithStandardInput { Self.shutDownAtEndOfInput(server) }
        // The first line on standard output: the address, for whoever asked for port 0.
        FileHandle.standardOutput.write(Data("listening on \(bound)\n".utf8))
        await server.serve()
    }

    /// Reads standard input on a thread of its own (a blocking read has no place on Swift's
    /// cooperative threads) and, when it ends, shuts the server down: no new runs, the runs
    /// in flight finished, the clients told goodbye; then `serve()` returns.
    private static func shutDownAtEndOfInput(_ server: WorkerServer) {
        let reader = Thread {
            while let data = try? FileHandle.standardInput.read(upToCount: 4096), !data.isEmpty {}
            Task { await server.shutdown() }
        }
        reader.name = "stdin"
        reader.start()
    }
}
