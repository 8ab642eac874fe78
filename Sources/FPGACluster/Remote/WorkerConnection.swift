import CoreMetrics
import FPGAJobs
import FPGATransport
import Synchronization

/// The cluster's connection to one worker process: handshake, heartbeats, runs in flight,
/// and reconnection after a loss.
///
/// Each of the worker process's devices is a ``RemoteNode`` in the cluster; they share
/// this connection. When the connection is refused, reset, or goes silent for
/// ``Settings/missedHeartbeats`` heartbeat intervals, every run in flight fails with
/// ``ClusterError/workerLost(_:reason:)`` (the cluster runs those inputs elsewhere) and
/// ``reconnect()`` tries again with backoff.
///
/// Every timeout, heartbeat, deadline and backoff delay is measured on
/// ``Settings/clock``, so tests drive them with a clock they advance by hand.
public actor WorkerConnection {
    /// How the client talks to workers.
    public struct Settings: Sendable, Hashable {
        /// The longest a connect plus handshake may take.
        public var connectTimeout: Duration = .seconds(5)
        /// How often the client sends a heartbeat when idle.
        public var heartbeatInterval: Duration = .milliseconds(500)
        /// Heartbeat intervals (the worker's, from its WELCOME) of silence after which
        /// the worker counts as frozen.
        public var missedHeartbeats = 5
        /// The longest one run may take before the worker counts as lost.
        public var runDeadline: Duration = .seconds(120)
        /// Waits between the starts of reconnection attempts, the last one repeated; the
        /// first attempt starts this long after the connection was lost.
        public var reconnectDelays: [Duration] = [
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        ]
        /// How long after the loss attempts may start before the worker is given up.
        public var reconnectBudget: Duration = .seconds(10)
        /// Per-connection limits in both directions.
        public var limits: ConnectionLimits = .default
        /// The clock every duration above is measured on.
        public var clock: any Clock<Duration> = ContinuousClock()
        /// Where the connection's metrics go (connections lost, heartbeats missed,
        /// reconnections; see the Observing a Cluster article): the factory the application
        /// bootstrapped unless a test gives one.
        public var metrics: any MetricsFactory = MetricsSystem.factory

        public init() {}

        /// Settings are equal when their durations, counts and limits are; the clock and
        /// the metrics factory are not compared.
        public static func == (lhs: Settings, rhs: Settings) -> Bool {
            lhs.connectTimeout == rhs.connectTimeout && lhs.heartbeatInterval == rhs.heartbeatInterval
                && lhs.missedHeartbeats == rhs.missedHeartbeats && lhs.runDeadline == rhs.runDeadline
                && lhs.reconnectDelays == rhs.reconnectDelays && lhs.reconnectBudget == rhs.reconnectBudget
                && lhs.limits == rhs.limits
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(connectTimeout)
            hasher.combine(heartbeatInterval)
            hasher.combine(missedHeartbeats)
            hasher.combine(runDeadline)
            hasher.combine(reconnectDelays)
            hasher.combine(reconnectBudget)
            hasher.combine(limits)
        }
    }

    /// The worker's address.
    public nonisolated let endpoint: Endpoint
    private let token: AuthToken?
    private let settings: Settings
    private let timeline: Timeline
    private let clientName: String
    private let metrics: ConnectionMetrics
    private var session: RemoteSession?
    private var reconnection: Task<Void, any Error>?
    /// The worker's WELCOME from the latest handshake.
    public private(set) var welcome: Welcome?

    public init(
        endpoint: Endpoint, token: AuthToken?, settings: Settings = Settings(), clientName: String = "fpgacluster"
    ) {
        self.endpoint = endpoint
        self.token = token
        self.settings = settings
        self.timeline = Timeline(clock: settings.clock)
        self.clientName = clientName
        self.metrics = ConnectionMetrics(worker: endpoint.description, factory: settings.metrics)
    }

    /// Connects and authenticates; returns the worker's WELCOME (its devices).
    @discardableResult
    public func connect() async throws -> Welcome {
        if let session, !session.isClosed, let welcome { return welcome }
        let endpoint = self.endpoint
        let (token, settings, clientName) = (self.token, self.settings, self.clientName)
        let (connection, welcome) = try await withDeadline(
            settings.connectTimeout, "connecting to \(endpoint)", clock: settings.clock
        ) {
            let connection = try await TCPConnection.connect(
                to: endpoint, limits: settings.limits, timeout: settings.connectTimeout, clock: settings.clock)
            do {
                let welcome = try await Handshake.client(
                    connection, token: token, name: clientName, timeout: settings.connectTimeout,
                    clock: settings.clock)
                return (connection, welcome)
            } catch {
                connection.close("handshake failed")
                throw error
            }
        }
        if let previous = self.welcome, previous.devices.map(\.name) != welcome.devices.map(\.name) {
            connection.close("the worker's devices changed")
            throw ClusterError.workerLost(endpoint.description, reason: "its devices changed after a restart")
        }
        self.welcome = welcome
        session = RemoteSession(
            connection: connection, worker: endpoint.description, settings: settings, timeline: timeline,
            metrics: metrics, workerHeartbeat: .milliseconds(Int(welcome.heartbeatIntervalMilliseconds)))
        return welcome
    }

    /// The capacity the WELCOME announced for `program` on device `index`.
    func capacity(ofDevice index: Int, program: String) throws -> Int {
        guard let device = welcome?.devices.first(where: { Int($0.index) == index }) else {
            throw ClusterError.workerLost(endpoint.description, reason: "no device \(index)")
        }
        guard let entry = device.programs.first(where: { $0.name == program }) else {
            throw NodeError.programUnavailable(program, node: "\(endpoint)/\(device.name)")
        }
        return Int(entry.capacity)
    }

    /// The programs device `index` can run, from the WELCOME.
    func programNames(ofDevice index: Int) -> [String] {
        let device = welcome?.devices.first { Int($0.index) == index }
        return (device?.programs.map(\.name) ?? []).sorted()
    }

    /// Runs one input on device `index`; returns the result's payload.
    func run(device index: Int, kind: String, parameters: [UInt8], payload: ArraySlice<UInt8>) async throws
        -> ArraySlice<UInt8>
    {
        guard let session, !session.isClosed else {
            throw ClusterError.workerLost(endpoint.description, reason: "not connected")
        }
        return try await session.run(
            RunRequest(deviceIndex: UInt16(index), jobKind: kind, parameters: parameters), payload: payload)
    }

    /// What each of the worker's devices is doing, from a STATUS_REPORT, in the worker's
    /// device order; each status's host is ``endpoint`` as this client reached it (two
    /// workers on one machine are told apart by their ports).
    ///
    /// Throws ``ClusterError/workerLost(_:reason:)`` when not connected or when the
    /// connection fails meanwhile, and `TransportError.timedOut` when no report comes
    /// within ``Settings/connectTimeout`` (the connection stays open: a worker holding
    /// back this connection's RUNs answers only once a slot frees).
    public func status() async throws -> [DeviceStatus] {
        let host = endpoint.description
        return try await statusReport().devices.map { DeviceStatus(report: $0, host: host) }
    }

    /// The status of device `index` (as WELCOME numbered it); `nil` when the report lacks it.
    func status(ofDevice index: Int) async throws -> DeviceStatus? {
        let host = endpoint.description
        return try await statusReport().devices.first { Int($0.index) == index }.map {
            DeviceStatus(report: $0, host: host)
        }
    }

    private func statusReport() async throws -> StatusReport {
        guard let session, !session.isClosed else {
            throw ClusterError.workerLost(endpoint.description, reason: "not connected")
        }
        return try await session.status(deadline: settings.connectTimeout)
    }

    /// Returns once the worker is connected again, trying with backoff; throws
    /// ``ClusterError/workerLost(_:reason:)`` when the retry budget runs out.
    ///
    /// The attempts follow a schedule fixed when the connection was lost (or, when no loss
    /// is pending, when this call began): the first starts
    /// ``Settings/reconnectDelays``[0] after it, each next one the following delay after
    /// the previous one started, and none starts ``Settings/reconnectBudget`` or more
    /// after it.
    public func reconnect() async throws {
        if let session, !session.isClosed { return }
        let task: Task<Void, any Error>
        if let running = reconnection {
            task = running
        } else {
            let delays = settings.reconnectDelays.isEmpty ? [Duration.seconds(1)] : settings.reconnectDelays
            let timeline = self.timeline
            // A loss is the start of one schedule only: a later call, after that schedule
            // ran out, gets a budget of its own.
            let start = session.flatMap { $0.claimFailureTime() } ?? timeline.now
            let deadline = start + settings.reconnectBudget
            task = Task {
                var next = start
                var attempt = 0
                var lastError: any Error = ClusterError.workerLost(self.endpoint.description, reason: "unreachable")
                while true {
                    next += delays[min(attempt, delays.count - 1)]
                    if next >= deadline { break }
                    try await timeline.sleep(until: next)
                    attempt += 1
                    do {
                        try await self.connect()
                        self.metrics.reconnects.increment()
                        return
                    } catch {
                        lastError = error
                    }
                }
                throw ClusterError.workerLost(
                    self.endpoint.description, reason: "\(lastError) (\(attempt) reconnection attempts)")
            }
            reconnection = task
        }
        defer { if reconnection == task { reconnection = nil } }
        // A caller that stops waiting (the job finished without this worker) stops the
        // attempts too, instead of holding the job until the budget runs out.
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Says goodbye and closes the connection.
    public func disconnect() {
        session?.close(goodbye: true)
        session = nil
    }
}

/// One live connection to a worker: the runs waiting for results, the reader and the
/// heartbeat.
///
/// The worker counts as frozen when ``WorkerConnection/Settings/missedHeartbeats`` of its
/// heartbeat intervals pass, on the timeline's clock, without the reader taking a frame
/// from the connection: checked at each of the client's own heartbeats.
final class RemoteSession: Sendable {
    private let connection: TCPConnection
    private let worker: String
    private let settings: WorkerConnection.Settings
    private let timeline: Timeline
    private let metrics: ConnectionMetrics
    private struct State {
        var nextID: UInt64 = 0
        var pending: [UInt64: CheckedContinuation<ArraySlice<UInt8>, any Error>] = [:]
        /// STATUS requests waiting for their STATUS_REPORT (their ids are the runs' too).
        var statusPending: [UInt64: CheckedContinuation<StatusReport, any Error>] = [:]
        var failure: ClusterError?
        /// When the connection failed, until a reconnection schedule claims it.
        var failedAt: Duration?
        var draining = false
        var tasks: [Task<Void, Never>] = []
        /// When the reader last took a frame (the session's start before the first).
        var lastHeard: Duration
    }
    private let state: Mutex<State>

    init(
        connection: TCPConnection, worker: String, settings: WorkerConnection.Settings, timeline: Timeline,
        metrics: ConnectionMetrics, workerHeartbeat: Duration
    ) {
        self.connection = connection
        self.worker = worker
        self.settings = settings
        self.timeline = timeline
        self.metrics = metrics
        // Fixed here, before any frame or heartbeat: the silence and the heartbeat
        // schedule count from the session's start, however late their tasks first run.
        let start = timeline.now
        state = Mutex(State(lastHeard: start))
        let silence = max(workerHeartbeat, .milliseconds(50)) * settings.missedHeartbeats
        let reader = Task { [self] in await self.readLoop() }
        let heartbeat = Task { [self] in await self.heartbeatLoop(start: start, silence: silence) }
        state.withLock { $0.tasks = [reader, heartbeat] }
    }

    var isClosed: Bool { state.withLock { $0.failure != nil || $0.draining } || connection.isClosed }

    func run(_ request: RunRequest, payload: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        let limit = settings.runDeadline
        let deadline = timeline.now + limit
        let timer = Task { [self, timeline] in
            guard (try? await timeline.sleep(until: deadline)) != nil else { return }
            self.fail(.workerLost(worker, reason: "a run took longer than \(limit)"), at: deadline)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ArraySlice<UInt8>, any Error>) in
                let failure: ClusterError? = state.withLock { state in
                    if let failure = state.failure { return failure }
                    if state.draining { return .workerLost(worker, reason: "the worker is shutting down") }
                    state.pending[id] = continuation
                    return nil
                }
                if let failure {
                    continuation.resume(throwing: failure)
                    return
                }
                Task { [connection] in
                    do {
                        try await connection.send(try .run(id: id, request, payload: payload))
                    } catch {
                        self.fail(.workerLost(self.worker, reason: "\(error)"))
                    }
                }
            }
        } onCancel: { [self] in
            let waiter = state.withLock { $0.pending.removeValue(forKey: id) }
            if let waiter {
                waiter.resume(throwing: CancellationError())
                Task { [connection] in
                    if let frame = try? OutgoingFrame.cancel(id: id) { try? await connection.send(frame) }
                }
            }
        }
    }

    /// Sends STATUS and returns the worker's STATUS_REPORT; throws `TransportError.timedOut`
    /// when none comes within `limit`, and the connection's failure when it fails.
    func status(deadline limit: Duration) async throws -> StatusReport {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        let deadline = timeline.now + limit
        let worker = self.worker
        let timer = Task { [self, timeline] in
            guard (try? await timeline.sleep(until: deadline)) != nil else { return }
            let waiter = state.withLock { $0.statusPending.removeValue(forKey: id) }
            waiter?.resume(throwing: TransportError.timedOut("no status report from \(worker) within \(limit)"))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<StatusReport, any Error>) in
                let failure: ClusterError? = state.withLock { state in
                    if let failure = state.failure { return failure }
                    state.statusPending[id] = continuation
                    return nil
                }
                if let failure {
                    continuation.resume(throwing: failure)
                    return
                }
                Task { [connection] in
                    do {
                        try await connection.send(try .status(id: id))
                    } catch {
                        self.fail(.workerLost(self.worker, reason: "\(error)"))
                    }
                }
            }
        } onCancel: { [self] in
            state.withLock { $0.statusPending.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    private func readLoop() async {
        while true {
            let frame: Frame
            do {
                frame = try await connection.receive()
            } catch {
                fail(.workerLost(worker, reason: "\(error)"))
                return
            }
            let now = timeline.now
            state.withLock { $0.lastHeard = now }
            do {
                switch try frame.decodeMessage() {
                case .result(let result, let payload):
                    let waiter = state.withLock { $0.pending.removeValue(forKey: frame.header.requestID) }
                    switch result {
                    case .success: waiter?.resume(returning: payload)
                    case .failure(let code, let message):
                        if code == .shuttingDown || code == .overloaded {
                            waiter?.resume(throwing: ClusterError.workerLost(worker, reason: message))
                        } else {
                            waiter?.resume(
                                throwing: ClusterError.remoteRunFailed(worker, code: code.rawValue, message: message))
                        }
                    }
                case .statusReport(let report):
                    // A report that comes after its deadline has no waiter left.
                    let waiter = state.withLock { $0.statusPending.removeValue(forKey: frame.header.requestID) }
                    waiter?.resume(returning: report)
                case .heartbeat: break
                case .goodbye(let goodbye):
                    // No new runs; those in flight still get their results.
                    state.withLock { $0.draining = true }
                    _ = goodbye
                case .error(let error):
                    fail(.workerLost(worker, reason: "worker reported \(error.code): \(error.message)"))
                    return
                case let other:
                    throw WireError.unexpectedMessage(other.type)
                }
            } catch {
                connection.close(after: .error(code: .unexpectedMessage, message: "\(error)"), reason: "\(error)")
                fail(.workerLost(worker, reason: "\(error)"))
                return
            }
            if state.withLock({ $0.draining && $0.pending.isEmpty && $0.statusPending.isEmpty }) {
                fail(.workerLost(worker, reason: "the worker said goodbye"))
                return
            }
        }
    }

    /// Ticks every heartbeat interval after `start`: checks the worker's silence at the
    /// tick, then sends a heartbeat unless the next tick is already due.
    ///
    /// Each tick is checked at its own time, even one the loop wakes late for: what the
    /// clock reads after waking may be past the tick by however far it jumped, and a
    /// clock that jumps several intervals still gets one check per interval.
    private func heartbeatLoop(start: Duration, silence: Duration) async {
        let interval = max(settings.heartbeatInterval, .milliseconds(1))
        var tick = start + interval
        while !Task.isCancelled {
            guard (try? await timeline.sleep(until: tick)) != nil else { return }
            if tick - state.withLock({ $0.lastHeard }) >= silence {
                metrics.heartbeatsMissed.increment()
                fail(.workerLost(worker, reason: "no heartbeat for \(silence)"), at: tick)
                return
            }
            if tick + interval > timeline.now {
                do {
                    try await connection.send(.heartbeat(Heartbeat(timestampMilliseconds: Self.milliseconds(tick))))
                } catch {
                    fail(.workerLost(worker, reason: "\(error)"))
                    return
                }
            }
            tick += interval
        }
    }

    /// Closes the connection and fails every run waiting on it; `time` (the timeline's
    /// present by default) is when the connection counts as lost. A loss the client did
    /// not ask for (`lost`) is counted in ``ConnectionMetrics/connectionsLost``.
    func fail(_ error: ClusterError, at time: Duration? = nil, lost: Bool = true) {
        let lostAt = time ?? timeline.now
        let (waiters, statusWaiters, tasks, first) = state.withLock { state in
            let first = state.failure == nil
            if first {
                state.failure = error
                state.failedAt = lostAt
            }
            defer {
                state.pending = [:]
                state.statusPending = [:]
            }
            return (Array(state.pending.values), Array(state.statusPending.values), state.tasks, first)
        }
        if first && lost { metrics.connectionsLost.increment() }
        connection.close("\(error)")
        for waiter in waiters { waiter.resume(throwing: error) }
        for waiter in statusWaiters { waiter.resume(throwing: error) }
        for task in tasks { task.cancel() }
    }

    func close(goodbye: Bool) {
        if goodbye {
            connection.close(after: .goodbye(Goodbye(reason: .normalClosure, message: "client done")), reason: "done")
        }
        fail(.workerLost(worker, reason: "disconnected"), lost: false)
    }

    /// When the connection failed, once: the start of one reconnection schedule.
    func claimFailureTime() -> Duration? {
        state.withLock { state in
            defer { state.failedAt = nil }
            return state.failedAt
        }
    }

    /// A heartbeat's timestamp: the timeline's time in milliseconds.
    static func milliseconds(_ time: Duration) -> UInt64 {
        UInt64(max(0, time.components.seconds)) * 1000
            + UInt64(max(0, time.components.attoseconds) / 1_000_000_000_000_000)
    }
}
