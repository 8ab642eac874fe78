import CoreMetrics
import FPGADevice
import FPGADrivers
import FPGAExecution
import FPGAJobs
import FPGATransport
import Logging
import Synchronization

/// One client connection on a worker: handshake, then RUN frames in, RESULT frames out,
/// and STATUS_REPORTs for STATUS frames.
///
/// A RUN for a device whose run slots are all busy waits for one, and reading goes on
/// behind it (a STATUS is answered, a CANCEL reaches it) until the next RUN: that one is
/// read only once the waiting one has its slot. So a client that sends faster than the
/// devices work, or never reads its results, is held back by TCP rather than buffered
/// without limit, one RUN beyond the slots at most.
///
/// The client counts as silent when ``WorkerServer/Configuration/missedHeartbeats``
/// heartbeat intervals pass, on the server's clock, without this session taking a frame
/// from the connection (time spent held back counts too, so a client that never reads
/// is closed rather than held forever): checked at each of the server's heartbeats.
actor ServerSession {
    private let connection: TCPConnection
    private let nodes: [LocalNode]
    private let token: AuthToken?
    private let jobs: JobRegistry
    private let welcomeMessage: Welcome
    private let configuration: WorkerServer.Configuration
    private let timeline: Timeline
    private var logger: Logger
    private let slots: [AsyncSemaphore]
    private var runs: [UInt64: Task<Void, Never>] = [:]
    /// Ends once the latest RUN has its slot (or was cancelled without one).
    private var slotWait: Task<Void, Never>?
    private var draining = false
    private var runsFinished: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    /// When the session last took a frame (its start before the first); set from the
    /// handshake too, outside the actor.
    private let lastHeard = Mutex<Duration>(.zero)
    /// The client said goodbye: the session waits for its runs and reads no more, so
    /// silence no longer counts.
    private var clientLeaving = false

    init(
        connection: TCPConnection, nodes: [LocalNode], token: AuthToken?, jobs: JobRegistry, welcome: Welcome,
        configuration: WorkerServer.Configuration, timeline: Timeline, logger: Logger
    ) {
        self.connection = connection
        self.nodes = nodes
        self.token = token
        self.jobs = jobs
        self.welcomeMessage = welcome
        self.configuration = configuration
        self.timeline = timeline
        self.logger = logger
        self.logger[metadataKey: "peer"] = "\(connection.peer)"
        self.slots = welcome.devices.map { AsyncSemaphore(permits: Int($0.capacity)) }
    }

    func serve() async {
        // Fixed before the handshake answers the client: the heartbeat schedule and the
        // silence count from here (the handshake's deadline from the call just below).
        let start = timeline.now
        lastHeard.withLock { $0 = start }
        do {
            try await Handshake.worker(
                connection, token: token, welcome: welcomeMessage, timeout: configuration.handshakeTimeout,
                clock: configuration.clock
            ) { [self] in
                // The AUTH, the handshake's last frame from the client, was just taken.
                let now = self.timeline.now
                self.lastHeard.withLock { $0 = now }
            }
        } catch {
            let reason = Self.handshakeFailureReason(error)
            logger.warning("handshake failed", metadata: ["error": "\(error)", "reason": "\(reason)"])
            Counter(
                label: "fpgacluster_handshake_failures_total", dimensions: [("reason", reason)],
                factory: configuration.metrics
            ).increment()
            return
        }
        logger.info("client connected")
        let heartbeat = Task { await self.heartbeatLoop(start: start) }
        defer { heartbeat.cancel() }
        while true {
            let frame: Frame
            do {
                frame = try await connection.receive()
            } catch {
                logger.info("client gone", metadata: ["reason": "\(error)"])
                break
            }
            let now = timeline.now
            lastHeard.withLock { $0 = now }
            do {
                switch try frame.decodeMessage() {
                case .run(let request, let payload):
                    try await startRun(id: frame.header.requestID, request, payload: payload)
                case .cancel:
                    runs[frame.header.requestID]?.cancel()
                case .status:
                    answerStatus(id: frame.header.requestID)
                case .heartbeat:
                    break
                case .goodbye:
                    clientLeaving = true
                    await waitForRuns(until: timeline.now + configuration.shutdownGrace)
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
        // Backpressure: one RUN at a time may wait for a slot while the frames behind it are
        // read (a STATUS is answered, a CANCEL reaches it); the next RUN is read only once
        // that one has its slot.
        if let slotWait { await slotWait.value }
        let node = nodes[index]
        let connection = self.connection
        let slot = slots[index]
        let parameters = request.parameters
        let admission = Task { (try? await slot.acquire()) != nil }
        slotWait = Task { _ = await admission.value }
        runs[id] = Task {
            let admitted = await withTaskCancellationHandler {
                await admission.value
            } onCancel: {
                admission.cancel()
            }
            guard admitted else {
                // Cancelled before it had a slot: it never ran.
                if let frame = try? OutgoingFrame.result(
                    id: id, .failure(code: .cancelled, message: "cancelled before it started"))
                {
                    try? await connection.send(frame)
                }
                self.runEnded(id)
                return
            }
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

    /// Answers STATUS `id` with every device's status, from a task of its own so the read
    /// loop goes on while the nodes are asked and the report is sent.
    private func answerStatus(id: UInt64) {
        let (nodes, connection, host) = (self.nodes, self.connection, configuration.workerID)
        let logger = self.logger
        Task {
            var devices: [StatusReport.Device] = []
            for (index, node) in nodes.enumerated() {
                devices.append(await node.status(host: host).report(index: UInt16(clamping: index)))
            }
            do {
                try await connection.send(try .statusReport(id: id, StatusReport(devices: devices)))
            } catch {
                logger.debug("status report not sent", metadata: ["error": "\(error)"])
            }
        }
    }

    private func runEnded(_ id: UInt64) {
        runs[id] = nil
        if runs.isEmpty {
            let waiters = runsFinished.values
            runsFinished = [:]
            for waiter in waiters { waiter.resume() }
        }
    }

    private func waitForRuns(until deadline: Duration) async {
        if runs.isEmpty { return }
        _ = try? await withDeadline(at: deadline, on: timeline, "runs to finish") { await self.runsToEnd() }
    }

    /// Returns once no run is in flight, or once the task is cancelled (the deadline of
    /// ``waitForRuns(until:)`` passed).
    private func runsToEnd() async {
        if runs.isEmpty || Task.isCancelled { return }
        nextWaiter += 1
        let id = nextWaiter
        await withTaskCancellationHandler {
            await withCheckedContinuation { runsFinished[id] = $0 }
        } onCancel: {
            // Runs on the actor after this call suspended, so the waiter is registered.
            Task { await self.stopWaiting(id) }
        }
    }

    private func stopWaiting(_ id: Int) {
        runsFinished.removeValue(forKey: id)?.resume()
    }

    /// Says goodbye, hands back runs that arrive from now on, finishes those in flight
    /// until `deadline` on the server's timeline, then closes.
    func drain(until deadline: Duration) async {
        draining = true
        try? await connection.send(.goodbye(Goodbye(reason: .shuttingDown, message: "worker shutting down")))
        await waitForRuns(until: deadline)
        connection.close("worker shut down")
    }

    /// Ticks every heartbeat interval after `start`: checks the client's silence at the
    /// tick, then sends a heartbeat unless the next tick is already due.
    ///
    /// Each tick is checked at its own time, even one the loop wakes late for: what the
    /// clock reads after waking may be past the tick by however far it jumped, and a
    /// clock that jumps several intervals still gets one check per interval.
    private func heartbeatLoop(start: Duration) async {
        let interval = max(configuration.heartbeatInterval, .milliseconds(1))
        let silence = configuration.heartbeatInterval * configuration.missedHeartbeats
        var tick = start + interval
        while !Task.isCancelled {
            guard (try? await timeline.sleep(until: tick)) != nil else { return }
            if !clientLeaving, tick - lastHeard.withLock({ $0 }) >= silence {
                logger.warning("client silent; closing", metadata: ["silence": "\(silence)"])
                connection.close(
                    after: .error(code: .timeout, message: "no frame for \(silence)"), reason: "client silent")
                return
            }
            // Sent from its own task: a send queue held full by a client that does not read
            // must not stop this loop from noticing that client's silence.
            if tick + interval > timeline.now {
                let connection = self.connection
                Task { try? await connection.send(.heartbeat(Heartbeat(timestampMilliseconds: 0))) }
            }
            tick += interval
        }
    }

    /// Why a client's handshake failed, as the `reason` label of
    /// `fpgacluster_handshake_failures_total`: `authentication` (a wrong or missing token),
    /// `version` (another protocol version), `timeout` (the handshake deadline passed),
    /// `closed` (the client went away) or `protocol` (anything else the client sent wrong).
    static func handshakeFailureReason(_ error: any Error) -> String {
        switch error {
        case WireError.authenticationFailed, WireError.tokenRequired: "authentication"
        case WireError.unsupportedVersion: "version"
        case TransportError.timedOut: "timeout"
        case TransportError.closed: "closed"
        default: "protocol"
        }
    }

    private static func code(for error: any Error) -> WireErrorCode {
        switch error {
        case is CancellationError: return .cancelled
        case is DeviceError: return .deviceFailed
        case let node as NodeError: return node.wireCode
        case is ConfigurationError, is WireError, GzipError.chunkTooLarge: return .invalidParameters
        default: return .deviceFailed
        }
    }
}
