import ArgumentParser
import CPlatform
import FPGACluster
import FPGADevice
import FPGADeviceXRT
import FPGADrivers
import FPGAExecution
import FPGAKernels
import FPGAMetricsServer
import FPGATransport
import FPGAWorkerServer
import Logging
import Metrics
import Prometheus
import SampleSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `fpga-worker serve` (the default subcommand, so `fpga-worker --listen ...` works as
/// before): serves this host's FPGAs to remote clusters.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve this host's FPGAs (or simulated ones) to FPGACluster clients over TCP.",
        discussion: """
            One worker node per --device: sim for a simulated device, xrt:INDEX or xrt:BDF for \
            a card through XRT, which loads the programs given with --xclbin NAME=PATH (gzip \
            for compression, cnv for classification). --model FILE (a CNV-W1A1 model file) makes \
            the sim devices classify with that model and names the cnv xclbin after it, so clients \
            can check they classify with the model they expect. --metrics-listen HOST:PORT serves \
            GET /metrics (Prometheus text format), GET /health (200, or 503 with the reason \
            when a device's last run failed), and a dashboard of the devices on GET / \
            (/status.json for scripts) over HTTP. Clients authenticate with the shared token from \
            --token-file or the FPGACLUSTER_TOKEN environment variable (HMAC-SHA256 \
            challenge-response; the token never crosses the wire). Listening on a \
            non-loopback address without a token is refused unless --insecure is given. \
            SIGINT or SIGTERM (or, with --exit-with-stdin, the end of standard input) finishes \
            the runs in flight, hands back the rest, and exits. --device auto serves every card \
            XRT finds, else one simulated device per core. Under systemd (Type=notify: \
            NOTIFY_SOCKET is set) the worker sends READY=1 once its ports listen and STOPPING=1 \
            when it starts to drain.

            Exit status (sysexits.h): 0 stopped by a signal or the end of input, after draining; \
            64 bad command line; 66 a file it must read (token, xclbin, model) is missing or \
            unreadable; 69 a device cannot be opened; 75 the listen or metrics address is \
            unavailable (in use, not local: a restart may help); 78 bad configuration (a \
            malformed token, an xclbin that does not parse, a non-loopback address without a \
            token, --xclbin without XRT devices); 1 anything else.
            """)

    @Option(help: ArgumentHelp("Address to listen on (port 0 picks a free port).", valueName: "HOST:PORT"))
    var listen: String?

    @Option(
        name: .customLong("metrics-listen"),
        help: ArgumentHelp(
            "Serve GET /metrics (Prometheus), GET /health and a dashboard (GET /) over HTTP on this address (port 0 picks a free port).",
            valueName: "HOST:PORT"))
    var metricsListen: String?

    @Option(
        name: .customLong("device"),
        help: ArgumentHelp(
            "A device to serve: sim, xrt:INDEX or xrt:BDF (repeatable); or auto alone: every card XRT finds, else one sim per core.",
            valueName: "KIND"))
    var devices: [String] = []

    @Option(
        name: .customLong("xclbin"),
        help: ArgumentHelp("A program for the XRT devices: gzip=PATH, cnv=PATH (repeatable).", valueName: "NAME=PATH"))
    var xclbins: [String] = []

    @Option(
        name: .customLong("model"),
        help: ArgumentHelp(
            "A CNV-W1A1 model file: sim devices classify with it; with --xclbin cnv=PATH, the model that bitstream was built with.",
            valueName: "FILE"))
    var modelFile: String?

    @Flag(name: .customLong("list-devices"), help: "Print the cards XRT finds, then exit.")
    var listDevices = false

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the shared token.", valueName: "FILE"))
    var tokenFile: String?

    @Option(
        help: ArgumentHelp(
            "Make simulated devices as slow as a card: u50 (the Vitis gzip kernel on an Alveo U50), or MB/s per compute unit.",
            valueName: "MODEL"))
    var timing: String?

    @Option(
        name: .customLong("handshake-timeout-ms"),
        help: ArgumentHelp("Handshake deadline in milliseconds.", valueName: "MS"))
    var handshakeTimeoutMilliseconds: Int = 5000

    @Flag(help: "Allow listening on a non-loopback address without a token.")
    var insecure = false

    @Option(
        name: .customLong("heartbeat-ms"), help: ArgumentHelp("Heartbeat interval in milliseconds.", valueName: "MS"))
    var heartbeatMilliseconds: Int = 1000

    @Option(name: .customLong("worker-id"), help: "The id reported to clients (default: the listen address).")
    var workerID: String?

    @Flag(name: [.short, .long], help: "Log every connection and run.")
    var verbose = false

    @Flag(
        name: .customLong("exit-with-stdin"),
        help: "Shut down, as on SIGTERM, when standard input ends (tie the worker to its supervisor's pipe).")
    var exitWithStandardInput = false

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        // No allocator tuning here (unlike fpga-compress): a worker's memory is bounded by its
        // run slots, and a long-lived server is better served by the allocator's defaults.
        do {
            try await serve()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            writeStandardError("fpga-worker: \(error)\n")
            throw ExitCode(ServeFailure.status(of: error).rawValue)
        }
    }

    private func serve() async throws {
        if listDevices {
            try ServeFailure.mapping(.unavailable) { try printDevices() }
            return
        }
        guard let listen else { throw ValidationError("--listen HOST:PORT is required") }
        let endpoint = try ServeFailure.mapping(.usage) { try Endpoint(parsing: listen) }
        let metricsEndpoint = try ServeFailure.mapping(.usage) { try metricsListen.map { try Endpoint(parsing: $0) } }
        guard (10...60_000).contains(heartbeatMilliseconds) else {
            throw ValidationError("--heartbeat-ms must be between 10 and 60000")
        }
        guard (10...600_000).contains(handshakeTimeoutMilliseconds) else {
            throw ValidationError("--handshake-timeout-ms must be between 10 and 600000")
        }
        if devices.contains("auto") && devices.count > 1 {
            throw ValidationError("--device auto serves every device it finds: give it alone")
        }
        // Before any node is made: each takes the factory bootstrapped when it is made.
        let registry = PrometheusCollectorRegistry()
        if metricsEndpoint != nil { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        let logger = Logger(label: "fpga-worker")
        let token: AuthToken?
        do {
            if let tokenFile {
                token = try AuthToken.load(file: tokenFile)
            } else {
                token = try AuthToken.fromEnvironment()
            }
        } catch {
            throw ServeFailure(ServeFailure.status(of: error), error)
        }
        if token == nil && !endpoint.isLoopback && !insecure {
            throw ServeFailure(
                .configuration,
                "refusing to listen on \(endpoint) without a token: give --token-file FILE, set FPGACLUSTER_TOKEN, "
                    + "or pass --insecure")
        }
        var model: TimingModel?
        switch timing {
        case nil, "none": model = nil
        case "u50": model = .alveoU50Gzip
        case let text?:
            guard let rate = Double(text), rate > 0 else {
                throw ValidationError("--timing must be u50, none, or a rate in MB/s per compute unit")
            }
            model = TimingModel(latency: .microseconds(50), unitsPerSecond: rate * 1e6)
        }
        let kinds = devices == ["auto"] ? automaticDevices(logger: logger) : devices.isEmpty ? ["sim"] : devices
        if !xclbins.isEmpty && !kinds.contains(where: { $0.hasPrefix("xrt:") }) && devices != ["auto"] {
            throw ServeFailure(.configuration, "--xclbin programs are for XRT devices: add --device xrt:INDEX")
        }
        var programs = try loadPrograms()
        var classifier: CNVModel?
        if let modelFile {
            do {
                classifier = try await CNVModel.read(path: modelFile)
            } catch let error as FileJobError {
                throw ServeFailure(ServeFailure.status(of: error), error)
            } catch {
                throw ServeFailure(.configuration, error)
            }
        }
        if let classifier {
            guard kinds.contains("sim") || programs.programs["cnv"] != nil else {
                throw ServeFailure(
                    .configuration, "--model is for sim devices or an XRT device with --xclbin cnv=PATH")
            }
            // The operator vouches that the cnv bitstream has this model's weights.
            if let xclbin = programs.programs.removeValue(forKey: "cnv") {
                programs = programs.adding(xclbin, named: classifier.programName, capacity: FINNDriver.batchesAtOnce)
            }
        }
        let engine = try ServeFailure.mapping(.configuration) { try classifier.map { try CNVEngine(model: $0) } }
        var nodes: [LocalNode] = []
        for (index, kind) in kinds.enumerated() {
            switch kind {
            case "sim":
                nodes.append(
                    LocalNode(
                        device: SimulatedDeviceFactory.make(index: index, timing: model, engine: engine),
                        programs: classifier.map { ProgramLibrary.builtIn(classifying: $0) } ?? .builtIn))
            case let xrt where xrt.hasPrefix("xrt:"):
                guard !programs.programs.isEmpty else {
                    throw ServeFailure(.configuration, "device \(xrt) needs at least one --xclbin NAME=PATH")
                }
                nodes.append(LocalNode(device: try XRTDeviceFactory.open(xrt), programs: programs))
            default:
                throw ValidationError("unknown device '\(kind)' (use auto, sim, xrt:INDEX or xrt:BDF)")
            }
        }
        var settings = WorkerServer.Configuration()
        settings.heartbeatInterval = .milliseconds(heartbeatMilliseconds)
        settings.workerID = workerID ?? endpoint.description
        // The dashboard names the devices' host by the worker's id; without --worker-id, by the
        // address it listens on, which port 0 makes known only once it listens.
        let dashboardHost = Mutex(settings.workerID)
        settings.handshakeTimeout = .milliseconds(handshakeTimeoutMilliseconds)
        let server = WorkerServer(nodes: nodes, token: token, configuration: settings, logger: logger)
        // The metrics server first: an address it cannot have stops the worker before it serves.
        var metricsServer: MetricsServer?
        if let metricsEndpoint {
            var logger = Logger(label: "fpga-worker.metrics")
            logger.logLevel = verbose ? .debug : .notice
            do {
                metricsServer = try await MetricsServer.start(
                    host: metricsEndpoint.host, port: Int(metricsEndpoint.port), registry: registry,
                    checks: nodes.map(MetricsServer.check), title: "fpga-worker \(workerID ?? LocalNode.hostName)",
                    status: MetricsServer.status(of: nodes) { dashboardHost.withLock { $0 } }, logger: logger)
            } catch {
                throw ServeFailure(.temporaryFailure, error)
            }
        }
        let bound: Endpoint
        do {
            bound = try await server.listen(on: endpoint)
            if workerID == nil { dashboardHost.withLock { $0 = bound.description } }
        } catch {
            await metricsServer?.stop()
            throw ServeFailure(.temporaryFailure, error)
        }
        // Not ServiceLifecycle's ServiceGroup (as MetricsServer uses inside): the start-up
        // above must fail with the status of what failed before anything serves, and READY=1
        // must follow both listens; a group would start its services concurrently and report
        // their errors wrapped. Its gracefulShutdownSignals are Dispatch signal sources,
        // which lose a signal that comes right after start (see InterruptSignals).
        let notifier = ServiceNotification.fromEnvironment()
        // Once listening, a shutdown closes the listener and serve() returns at once, even
        // if it has not started yet.
        let shutDown: @Sendable () -> Void = {
            do {
                try notifier?.stopping(status: "draining: finishing the runs in flight")
            } catch {
                logger.warning("\(error)")
            }
            Task { await server.shutdown() }
        }
        let signals = InterruptSignals(shutDown)
        defer { signals.stop() }
        if exitWithStandardInput { watchStandardInput(then: shutDown) }
        // The first line on standard output is the address, for scripts that asked for port 0.
        // It comes after the handlers: a supervisor that read it may signal or close our input.
        // With --metrics-listen, the second line is the metrics server's address.
        writeStandardOutput(
            "listening on \(bound)\n" + (metricsServer.map { "metrics on http://\($0.address)\n" } ?? ""))
        // READY=1 likewise: systemd may send SIGTERM as soon as it has it.
        do {
            try notifier?.ready(status: "serving \(nodes.count) devices on \(bound)")
        } catch {
            logger.warning("\(error)")
        }
        await server.serve()
        await metricsServer?.stop()
    }

    /// `--device auto`: every card XRT finds, else (no card, or XRT not usable here) one
    /// simulated device per core this process may run on; logs which.
    private func automaticDevices(logger: Logger) -> [String] {
        let cards: [XRTDeviceSummary]
        var reason = "XRT finds no cards"
        do {
            cards = try XRTDevice.list()
        } catch {
            cards = []
            reason = "XRT is not usable (\(error))"
        }
        if !cards.isEmpty {
            logger.info("--device auto: serving the \(cards.count) cards XRT finds")
            return cards.map { "xrt:\($0.index)" }
        }
        let cores = ProcessorInfo.activeCores
        let unused = xclbins.isEmpty ? "" : "; the --xclbin programs are unused"
        logger.info("--device auto: \(reason): serving \(cores) simulated devices, one per core\(unused)")
        return Array(repeating: "sim", count: cores)
    }
}

extension Serve {
    /// Reads standard input on a thread of its own and, at its end (the supervisor closed
    /// its pipe or died), runs `shutDown`: the same graceful shutdown as SIGTERM's, called
    /// directly rather than through a signal to ourselves.
    private func watchStandardInput(then shutDown: @escaping @Sendable () -> Void) {
        startDedicatedThread(name: "fpga-stdin") {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count > 0 || (count < 0 && errno == EINTR) { continue }
                break
            }
            shutDown()
        }
    }

    /// The --xclbin programs, each read and checked.
    private func loadPrograms() throws -> ProgramLibrary {
        var programs: [String: Xclbin] = [:]
        for entry in xclbins {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex,
                entry.index(after: equals) != entry.endIndex
            else {
                throw ValidationError("--xclbin takes NAME=PATH (such as gzip=/opt/xclbin/gzip.xclbin), not '\(entry)'")
            }
            let name = String(entry[..<equals])
            guard programs[name] == nil else { throw ValidationError("--xclbin \(name) is given twice") }
            let path = String(entry[entry.index(after: equals)...])
            // A file that is not there or not readable is the operator's to provide (66);
            // one that does not parse is a wrong file (78).
            if access(path, R_OK) != 0 {
                throw ServeFailure(.noInput, "\(path): \(String(cString: strerror(errno)))")
            }
            programs[name] = try ServeFailure.mapping(.configuration) { try Xclbin.load(file: path, name: name) }
        }
        return ProgramLibrary(programs)
    }

    /// Prints the cards XRT finds, or a line saying there are none.
    private func printDevices() throws {
        let found = try XRTDevice.list()
        if found.isEmpty {
            let emulation = XRTDevice.isEmulation ? " (XCL_EMULATION_MODE is set: emulated devices are not listed)" : ""
            writeStandardOutput("no XRT devices found\(emulation)\n")
        }
        for device in found { writeStandardOutput("\(device)\n") }
    }
}

/// Opens the cards a worker serves.
enum XRTDeviceFactory {
    /// `xrt:INDEX` or `xrt:BDF` (`xrt:0000:65:00.1`).
    static func open(_ text: String) throws -> any Device {
        let target = text.dropFirst("xrt:".count)
        if let index = Int(target), index >= 0 {
            return try ServeFailure.mapping(.unavailable) { try XRTDevice(index: index) }
        }
        let hex = "0123456789abcdefABCDEF"
        let parts = target.split(separator: ":", omittingEmptySubsequences: false)
        let shapeOK =
            (parts.count == 2 || parts.count == 3) && parts.allSatisfy { !$0.isEmpty }
            && parts.dropLast().allSatisfy { $0.allSatisfy(hex.contains) } && parts.last!.contains(".")
        guard shapeOK else {
            throw ValidationError("bad device '\(text)': use xrt:INDEX (xrt:0) or xrt:BDF (xrt:0000:65:00.1)")
        }
        return try ServeFailure.mapping(.unavailable) { try XRTDevice(bdf: String(target)) }
    }
}

/// Makes the simulated devices a worker serves.
enum SimulatedDeviceFactory {
    /// A simulated device; with `engine`, it also runs that model's classifier program.
    static func make(index: Int, timing: TimingModel?, engine: CNVEngine?) -> any Device {
        let classifier = engine.map { ProgramLibrary.classifierKernels(engine: $0) } ?? []
        return SimulatedDevice(
            name: "sim\(index)", kernels: ProgramLibrary.builtInKernels + classifier, timing: timing)
    }
}

struct WorkerCLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
