import FPGACluster
import FPGADevice
import FPGADrivers
import FPGAExecution
import FPGATransport
import Logging
import Synchronization

/// One client connection on a worker: handshake, then RUN frames in, RESULT frames out.
///
/// Reading stops while every run slot of the target device is busy, so a client that
/// sends faster than the devices work, or never reads its results, is held back by
/// TCP rather than buffered without limit.
actor ServerSession {
    private let connection: TCPConnection
    private let nodes: [WorkerNode]
    private let token: AuthToken?
    private let jobs: JobRegistry
    private let welcomeMessage: Welcome
    private let configuration: WorkerServer.Configuration
    private var logger: Logger
    private let slots: [AsyncSemaphore]
    private var runs: [UInt64: Task<Void, Never>] = [:]
    private var draining = false
    private var runsFinished: [CheckedContinuation<Void, Never>] = []

    init(
        connection: TCPConnection, nodes: [WorkerNode], token: AuthToken?, jobs: JobRegistry, welcome: Welcome,
        configuration: WorkerServer.Configuration, logger: Logger
    ) {
        self.connection = connection
        self.nodes = nodes
        self.token = token
        self.jobs = jobs
        self.welcomeMessage = welcome
        self.configuration = configuration
        self.logger = logger
        self.logger[metadataKey: "peer"] = "\(connection.peer)"
        self.slots = welcome.devices.map { AsyncSemaphore(permits: Int($0.capacity)) }
    }

    func serve() async {
        do {
            try await Handshake.worker(
                connection, token: token, welcome: welcomeMessage, timeout: configuration.handshakeTimeout)
        } catch {
            logger.warning("handshake failed", metadata: ["error": "\(error)"])
            return
        }
        logger.info("client connected")
        let heartbeat = Task { await self.heartbeatLoop() }
        defer { heartbeat.cancel() }
        while true {
            let frame: Frame
            do {
                frame = try await connection.receive()
            } catch {
                logger.info("client gone", metadata: ["reason": "\(error)"])
                break
            }
            do {
                switch try frame.decodeMessage() {
                case .run(let request, let payload):
                    try await startRun(id: frame.header.requestID, request, payload: payload)
                case .cancel:
                    runs[frame.header.requestID]?.cancel()
                case .heartbeat:
                    break
                case .goodbye:
                    await waitForRuns(grace: configuration.shutdownGrace)
                    connection.close("client said goodbye")
                case .error(let error):
                    logger.warning(
                        "client reported an error", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
                    connection.close("client error")
                case let other:
                    throw WireError.unexpectedMessage(other.type)
                }
            } catch {
                logger.warning("protocol violation; closing", metadata: ["error": "\(error)"])
                let code = (error as? WireError)?.code ?? .malformedFrame
                connection.close(after: .error(code: code, message: "\(error)"), reason: "protocol violation")
                break
            }
        }
        for run in runs.values { run.cancel() }
    }

    private func startRun(id: UInt64, _ request: RunRequest, payload: ArraySlice<UInt8>) async throws {
        guard id != 0, runs[id] == nil else { throw WireError.malformed("run id \(id) is zero or already in use") }
        if draining {
            try await connection.send(
                try .result(id: id, .failure(code: .shuttingDown, message: "worker shutting down")))
            return
        }
        let index = Int(request.deviceIndex)
        guard nodes.indices.contains(index) else {
            try await connection.send(
                try .result(id: id, .failure(code: .unknownDevice, message: "no device \(index)")))
            return
        }
        guard let handler = jobs.handlers[request.jobKind] else {
            try await connection.send(
                try .result(id: id, .failure(code: .unknownJob, message: "unknown job \(request.jobKind)")))
            return
        }
        // Backpressure: wait for a slot before reading the next frame.
        try await slots[index].acquire()
        let node = nodes[index]
        let connection = self.connection
        let slot = slots[index]
        let parameters = request.parameters
        runs[id] = Task {
            let frame: OutgoingFrame?
            do {
                let output = try await handler(parameters, payload, node)
                frame = try? OutgoingFrame.result(id: id, .success, payload: output)
            } catch {
                frame = try? OutgoingFrame.result(
                    id: id, .failure(code: Self.code(for: error), message: String(describing: error)))
            }
            // The slot is held until the result is handed to the connection, so a client
            // that does not read holds back its own runs instead of piling up results.
            if let frame { try? await connection.send(frame) }
            slot.release()
            self.runEnded(id)
        }
    }

    private func runEnded(_ id: UInt64) {
        runs[id] = nil
        if runs.isEmpty {
            let waiters = runsFinished
            runsFinished = []
            for waiter in waiters { waiter.resume() }
        }
    }

    private func waitForRuns(grace: Duration) async {
        if runs.isEmpty { return }
        _ = try? await withDeadline(grace, "runs to finish") { await self.runsToEnd() }
    }

    private func runsToEnd() async {
        if runs.isEmpty { return }
        await withCheckedContinuation { runsFinished.append($0) }
    }

    /// Says goodbye, hands back runs that arrive from now on, finishes those in flight,
    /// then closes.
    func drain(grace: Duration) async {
        draining = true
        try? await connection.send(.goodbye(Goodbye(reason: .shuttingDown, message: "worker shutting down")))
        await waitForRuns(grace: grace)
        connection.close("worker shut down")
    }

    private func heartbeatLoop() async {
        let interval = configuration.heartbeatInterval
        let silence = interval * configuration.missedHeartbeats
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: interval)) != nil else { return }
            if ContinuousClock.now - connection.lastFrameReceived > silence {
                logger.warning("client silent; closing", metadata: ["silence": "\(silence)"])
                connection.close(
                    after: .error(code: .timeout, message: "no frame for \(silence)"), reason: "client silent")
                return
            }
            // Sent from its own task: a send queue held full by a client that does not read
            // must not stop this loop from noticing that client's silence.
            let connection = self.connection
            Task { try? await connection.send(.heartbeat(Heartbeat(timestampMilliseconds: 0))) }
        }
    }

    private static func code(for error: any Error) -> WireErrorCode {
        switch error {
        case is CancellationError: return .cancelled
        case is DeviceError: return .deviceFailed
        case GzipError.chunkTooLarge: return .invalidParameters
        case let cluster as ClusterError:
            switch cluster {
            case .invalidChunkSize, .jobNotRemotable: return .invalidParameters
            case .programUnavailable: return .unknownJob
            default: return .deviceFailed
            }
        default: return .deviceFailed
        }
    }
}
