import CoreMetrics
import FPGADevice
import FPGAExecution
import FPGAJobs
import FPGATransport
import Logging

/// The server half of a worker process: accepts clients, authenticates them, and runs
/// their inputs on this process's `LocalNode`s (Dask's worker, with the transport
/// below it and the nodes beside it).
///
/// Each connection is served on its own: a client that sends garbage, stalls, or never
/// reads is closed or held back without affecting the others.
public actor WorkerServer {
    /// Settings of a worker server.
    public struct Configuration: Sendable {
        /// How often the server sends a heartbeat; clients count silence in these.
        public var heartbeatInterval: Duration = .seconds(1)
        /// Heartbeat intervals of client silence after which the connection is closed.
        public var missedHeartbeats = 5
        /// The longest a client may take to complete the handshake.
        public var handshakeTimeout: Duration = .seconds(5)
        /// Per-connection limits in both directions.
        public var limits: ConnectionLimits = .default
        /// The id the server reports in WELCOME.
        public var workerID: String = "fpga-worker"
        /// How long shutdown waits for runs in flight.
        public var shutdownGrace: Duration = .seconds(30)
        /// The clock every duration above is measured on.
        public var clock: any Clock<Duration> = ContinuousClock()
        /// Where the server's metrics go (`fpgacluster_handshake_failures_total`, by
        /// `reason`): the factory the application bootstrapped unless a test gives one.
        public var metrics: any MetricsFactory = MetricsSystem.factory

        public init() {}
    }

    private let nodes: [LocalNode]
    private let token: AuthToken?
    private let jobs: JobRegistry
    private let configuration: Configuration
    private let timeline: Timeline
    private let logger: Logger
    private var listener: TCPListener?
    private var sessions: [UInt64: ServerSession] = [:]
    private var nextSession: UInt64 = 0
    private var stopping = false

    public init(
        nodes: [LocalNode], token: AuthToken?, jobs: JobRegistry = .builtIn,
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "fpga-worker")
    ) {
        self.nodes = nodes
        self.token = token
        self.jobs = jobs
        self.configuration = configuration
        self.timeline = Timeline(clock: configuration.clock)
        self.logger = logger
    }

    /// What the server tells clients about its devices: for each, its programs with the
    /// capacity of each (what the program's driver takes at once, from the node's
    /// ``ProgramLibrary``), and a device capacity of the largest plus one, so that the
    /// input a client sends while the device is busy waits here, read, instead of in TCP.
    public nonisolated var welcome: Welcome {
        let devices = nodes.enumerated().map { index, node in
            var programs = node.programs.programs.sorted { $0.key < $1.key }.map { name, xclbin in
                Welcome.Program(
                    name: name, capacity: UInt32(clamping: node.programs.capacity(of: name) ?? 1),
                    kernels: xclbin.kernels.map {
                        Welcome.Kernel(name: $0.name, computeUnits: UInt16(clamping: $0.computeUnits.count))
                    })
            }
            // Host-only jobs (echo) run on every device's connection without its kernels.
            programs.append(Welcome.Program(name: EchoJob.kind, capacity: UInt32(EchoJob.capacity), kernels: []))
            let largest = programs.map(\.capacity).max() ?? 1
            return Welcome.Device(
                index: UInt16(index), name: node.name,
                kind: Welcome.DeviceKind(rawValue: node.device.info.kind.rawValue),
                capacity: largest == .max ? largest : largest + 1, programs: programs)
        }
        return Welcome(
            workerID: configuration.workerID, maxBodyLength: UInt32(configuration.limits.wire.maxBodyLength),
            heartbeatIntervalMilliseconds: UInt32(
                configuration.heartbeatInterval.components.seconds * 1000
                    + configuration.heartbeatInterval.components.attoseconds / 1_000_000_000_000_000),
            devices: devices)
    }

    /// Starts listening; returns the bound endpoint (with the port chosen if 0 was given).
    public func listen(on endpoint: Endpoint) async throws -> Endpoint {
        let listener = try await TCPListener.listen(on: endpoint, limits: configuration.limits)
        self.listener = listener
        // Shut down before it listened (a SIGTERM during start-up): accept nothing, so that
        // ``serve()`` returns at once instead of serving a listener nobody will close.
        if stopping { listener.close() }
        logger.info("listening", metadata: ["address": "\(listener.endpoint)", "devices": "\(nodes.count)"])
        return listener.endpoint
    }

    /// Serves connections until ``shutdown()``.
    public func serve() async {
        guard let listener else { return }
        await withDiscardingTaskGroup { group in
            for await connection in listener.connections {
                if stopping {
                    connection.close(
                        after: .error(code: .shuttingDown, message: "worker shutting down"), reason: "stopping")
                    continue
                }
                nextSession += 1
                let id = nextSession
                let session = ServerSession(
                    connection: connection, nodes: nodes, token: token, jobs: jobs, welcome: welcome,
                    configuration: configuration, timeline: timeline, logger: logger)
                sessions[id] = session
                group.addTask {
                    await session.serve()
                    await self.sessionEnded(id)
                }
            }
        }
    }

    private func sessionEnded(_ id: UInt64) {
        sessions[id] = nil
    }

    /// Stops accepting, tells every client goodbye, finishes the runs in flight (runs
    /// that arrive afterwards are handed back), then closes the connections: at the
    /// latest ``Configuration/shutdownGrace`` after the call.
    public func shutdown() async {
        guard !stopping else { return }
        stopping = true
        // One deadline for every connection, fixed before the first goodbye is sent.
        let deadline = timeline.now + configuration.shutdownGrace
        logger.info("shutting down", metadata: ["connections": "\(sessions.count)"])
        listener?.close()
        let open = Array(sessions.values)
        await withDiscardingTaskGroup { group in
            for session in open { group.addTask { await session.drain(until: deadline) } }
        }
    }
}
