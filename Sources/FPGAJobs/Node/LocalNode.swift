import CoreMetrics
import FPGADevice
import FPGATransport
import Synchronization

/// A device in this process, as a node: it loads the program a job needs once, makes the
/// job's driver once per ``DeviceJob/driverKey``, and runs inputs through it.
///
/// A worker process serves its devices as local nodes; a cluster in a user's process may
/// hold them next to remote ones.
///
/// Each run is counted in the metrics of the device and its program (see the Observing a
/// Cluster article for the list): through the `MetricsFactory` given at creation, by
/// default the one the application bootstrapped (`MetricsSystem.factory`), measured on an
/// injected clock.
public actor LocalNode: DeviceNode {
    /// The device's name.
    public nonisolated let name: String
    /// The device.
    public nonisolated let device: any Device
    /// The programs it may load.
    public nonisolated let programs: ProgramLibrary
    /// A local device is not lost with a connection: nothing to recover.
    public nonisolated var canRecover: Bool { false }

    private(set) var loadedProgram: String?
    /// The load in progress, so that concurrent first calls load the program once.
    private var loading: (program: String, task: Task<Void, any Error>)?
    /// The drivers made, each under its job's type, program and driver key: so each holds a
    /// driver of its job's input and output types.
    private var drivers: [DriverKey: Task<any Sendable, any Error>] = [:]
    /// Inputs completed, by program.
    public private(set) var completed: [String: Int] = [:]

    /// Whether the device is usable: healthy until a run fails with a `DeviceError` (the
    /// device or its kernel failed, not a job's bad input), then unhealthy with the reason
    /// until a later run succeeds. Readable from any thread, for a health endpoint.
    public nonisolated var health: DeviceHealth { healthState.withLock { $0 } }
    private nonisolated let healthState = Mutex(DeviceHealth.healthy)

    private let metricsFactory: any MetricsFactory
    let timeline: Timeline
    /// The metrics of each program run so far.
    private var metrics: [String: DeviceMetrics] = [:]
    /// Inputs in the driver now, and since when there has been at least one.
    private(set) var inFlight = 0
    private(set) var busySince: Duration = .zero
    /// The totals and the last minutes that ``status(host:)`` reports.
    private(set) var totals = Totals()
    private(set) var history = ActivityHistory()

    /// What the node has done since it was made, across programs.
    struct Totals {
        var completed: UInt64 = 0
        var failed: UInt64 = 0
        var inputBytes: UInt64 = 0
        var outputBytes: UInt64 = 0
        var busy: Duration = .zero
    }

    /// A node for a device in this process that may load `programs`, counting its runs
    /// through `metrics`, timed on `clock`.
    public init(
        device: any Device, programs: ProgramLibrary = .builtIn, metrics: any MetricsFactory = MetricsSystem.factory,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.name = device.info.name
        self.device = device
        self.programs = programs
        self.metricsFactory = metrics
        self.timeline = Timeline(clock: clock)
    }

    /// How many inputs of `job` the node works on at once: its driver's capacity.
    public func capacity<Job: DeviceJob>(for job: Job) async throws -> Int {
        try await driver(for: job).capacity
    }

    /// The names of the programs in the node's library.
    public func programNames() -> [String] {
        programs.programs.keys.sorted()
    }

    /// Runs one input of `job` on this node's device.
    public func run<Job: DeviceJob>(_ job: Job, _ input: Job.Input) async throws -> Job.Output {
        let driver = try await driver(for: job)
        return try await counting(job, inputBytes: job.byteCount(ofInput: input)) { try await driver.run(input) }
    }

    /// Runs one input of `job` whose bytes are read when the driver has room for them:
    /// straight into the device's buffer when the driver is a ``DeferredInputDriver``,
    /// else loaded into memory first.
    public func run<Job: DeviceJob>(_ job: Job, deferred input: DeferredBytes) async throws -> Job.Output
    where Job.Input == ArraySlice<UInt8> {
        let driver = try await driver(for: job)
        guard let direct = driver as? any DeferredInputDriver<Job.Output> else {
            let bytes = try await input.load()
            return try await counting(job, inputBytes: job.byteCount(ofInput: bytes)) { try await driver.run(bytes) }
        }
        return try await counting(job, inputBytes: input.count) { try await direct.run(deferred: input) }
    }

    /// Runs `body` (one driver call for `job`) counted in the device's metrics, totals,
    /// history and health.
    private func counting<Job: DeviceJob>(
        _ job: Job, inputBytes: Int?, _ body: () async throws -> Job.Output
    ) async throws -> Job.Output {
        let metrics = self.metrics(for: job.program)
        metrics.runsStarted.increment()
        if let inputBytes { metrics.inputBytes.increment(by: inputBytes) }
        let start = runBegins(metrics)
        let output: Job.Output
        do {
            output = try await body()
        } catch {
            runEnds(metrics, startedAt: start)
            metrics.runsFailed.increment()
            totals.failed += 1
            if let failure = error as? DeviceError {
                // One line, whatever the device's message holds.
                let reason = "\(name): run failed: \(failure)".split(whereSeparator: \.isNewline).joined(separator: " ")
                healthState.withLock { $0 = .unhealthy(reason: reason) }
            }
            throw error
        }
        let end = runEnds(metrics, startedAt: start)
        healthState.withLock { $0 = .healthy }
        metrics.runsCompleted.increment()
        let outputBytes = job.byteCount(ofOutput: output)
        if let outputBytes { metrics.outputBytes.increment(by: outputBytes) }
        completed[job.program, default: 0] += 1
        let bytesIn = UInt64(max(0, inputBytes ?? 0))
        let bytesOut = UInt64(max(0, outputBytes ?? 0))
        totals.completed += 1
        totals.inputBytes &+= bytesIn
        totals.outputBytes &+= bytesOut
        history.recordCompletion(inputBytes: bytesIn, outputBytes: bytesOut, at: end)
        return output
    }

    /// The metrics of `program` on this device, made on first use.
    private func metrics(for program: String) -> DeviceMetrics {
        if let existing = metrics[program] { return existing }
        let made = DeviceMetrics(device: device.info, program: program, factory: metricsFactory)
        metrics[program] = made
        return made
    }

    /// Counts an input into the driver; returns when it went in.
    private func runBegins(_ metrics: DeviceMetrics) -> Duration {
        let now = timeline.now
        if inFlight == 0 { busySince = now }
        inFlight += 1
        metrics.runsInFlight.set(inFlight)
        return now
    }

    /// Counts an input out of the driver: its duration, and the busy time when it was the
    /// last one in. Returns when it came out.
    @discardableResult
    private func runEnds(_ metrics: DeviceMetrics, startedAt start: Duration) -> Duration {
        let now = timeline.now
        metrics.runDuration.recordNanoseconds(Self.nanoseconds(now - start))
        inFlight -= 1
        metrics.runsInFlight.set(inFlight)
        if inFlight == 0 {
            metrics.busySeconds.increment(by: Double(Self.nanoseconds(now - busySince)) / 1e9)
            totals.busy += now - busySince
            history.recordBusy(from: busySince, to: now)
        }
        return now
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
    }

    /// A local device cannot be recovered: throws.
    public func recover() async throws {
        throw NodeError.notRecoverable(node: name)
    }

    /// The node's driver for `job`, made on first use after loading the job's program.
    /// A job that runs on the host alone gets its driver without a load.
    public func driver<Job: DeviceJob>(for job: Job) async throws -> any JobDriver<Job.Input, Job.Output> {
        if !job.runsOnHost { try await load(job.program) }
        // The job's type is part of the key: a driver found under it was made by a job of
        // this type, so it has this job's input and output types.
        let key = DriverKey(job: ObjectIdentifier(Job.self), program: job.program, configuration: job.driverKey)
        let task: Task<any Sendable, any Error>
        if let existing = drivers[key] {
            task = existing
        } else {
            let device = self.device
            task = Task { try await job.makeDriver(on: device) as any Sendable }
            drivers[key] = task
        }
        do {
            guard let driver = try await task.value as? any JobDriver<Job.Input, Job.Output> else {
                throw NodeError.invalidParameters(
                    "\(Job.self)", reason: "driver key \(job.driverKey) holds a driver of other input and output types")
            }
            return driver
        } catch {
            // Let a later job try again from scratch.
            if drivers[key] == task { drivers[key] = nil }
            throw error
        }
    }

    /// Where a job's driver is kept: its job's type, program and driver key.
    private struct DriverKey: Hashable {
        let job: ObjectIdentifier
        let program: String
        let configuration: String
    }

    /// Loads `program` unless it is loaded, once however many callers ask at the same time.
    private func load(_ program: String) async throws {
        while loadedProgram != program {
            if let current = loading {
                // Another call is loading a program: wait for it. Whoever sees the load end
                // records it, so no caller depends on another being scheduled first.
                let result = await current.task.result
                if loading?.task == current.task {
                    loading = nil
                    if case .success = result { loadedProgram = current.program }
                }
                if current.program == program, case .failure(let error) = result { throw error }
                continue
            }
            guard let xclbin = programs.programs[program] else {
                throw NodeError.programUnavailable(program, node: name)
            }
            // Another program's drivers hold buffers of the old xclbin: drop them first.
            for task in drivers.values { task.cancel() }
            drivers = [:]
            loadedProgram = nil
            let device = self.device
            let task = Task<Void, any Error> { _ = try await device.loadXclbin(xclbin) }
            loading = (program, task)
        }
    }
}

/// The node type of earlier versions, which was local or remote.
@available(*, deprecated, renamed: "LocalNode", message: "remote devices are RemoteNode; both are DeviceNode")
public typealias WorkerNode = LocalNode
