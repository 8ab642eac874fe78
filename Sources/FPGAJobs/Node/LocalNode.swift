import FPGADevice
import FPGAKernels

/// One device in the cluster, local or on a remote worker, with the same API either way.
///
/// A local node loads the program a job needs once, makes the job's driver once, and
/// runs inputs through it. A remote node sends each input to its worker process, which
/// does the same on its own node. The ``Cluster`` decides which inputs go where; the
/// node only runs them (the worker half of Dask's scheduler/worker split).
public actor WorkerNode {
    /// Where the device is.
    public enum Location: Sendable {
        /// A device in this process.
        case local(any Device)
        /// Device `index` of a worker process.
        case remote(RemoteWorker, deviceIndex: Int)
    }

    /// The node's name: its device's name, prefixed by the worker's address if remote.
    public nonisolated let name: String
    /// Where its device is.
    public nonisolated let location: Location
    /// The programs it may load (local nodes).
    public nonisolated let programs: ProgramLibrary

    private var loadedProgram: String?
    /// The load in progress, so that concurrent first calls load the program once.
    private var loading: (program: String, task: Task<Void, any Error>)?
    private var drivers: [String: Task<any Sendable, any Error>] = [:]
    /// Inputs completed, by program.
    public private(set) var completed: [String: Int] = [:]

    /// A node for a device in this process.
    public init(device: any Device, programs: ProgramLibrary = .builtIn) {
        self.name = device.info.name
        self.location = .local(device)
        self.programs = programs
    }

    /// A node for device `index` of a remote worker.
    public init(remote worker: RemoteWorker, deviceIndex: Int, name: String) {
        self.name = name
        self.location = .remote(worker, deviceIndex: deviceIndex)
        self.programs = ProgramLibrary([:])
    }

    /// The local device, if the node is local.
    public nonisolated var device: (any Device)? {
        if case .local(let device) = location { return device }
        return nil
    }

    /// Whether the node's device is on a remote worker.
    public nonisolated var isRemote: Bool {
        if case .remote = location { return true }
        return false
    }

    /// How many inputs of `job` the node works on at once.
    public func capacity<Job: DeviceJob>(for job: Job) async throws -> Int {
        switch location {
        case .local: return try await driver(for: job).capacity
        case .remote(let worker, let index):
            let announced = try await worker.capacity(ofDevice: index, program: job.program)
            return min(announced, job.remoteInFlightLimit ?? announced)
        }
    }

    /// The node's driver for `job`, made on first use (local nodes).
    public func driver<Job: DeviceJob>(for job: Job) async throws -> any JobDriver<Job.Input, Job.Output> {
        guard case .local(let device) = location else { throw ClusterError.jobNotRemotable(Job.kind) }
        while loadedProgram != job.program {
            if let current = loading {
                // Another call is loading a program: wait for it. Whoever sees the load end
                // records it, so no caller depends on another being scheduled first.
                let result = await current.task.result
                if loading?.task == current.task {
                    loading = nil
                    if case .success = result { loadedProgram = current.program }
                }
                if current.program == job.program, case .failure(let error) = result { throw error }
                continue
            }
            guard let xclbin = programs.programs[job.program] else {
                throw ClusterError.programUnavailable(job.program, node: name)
            }
            // Another program's drivers hold buffers of the old xclbin: drop them first.
            for task in drivers.values { task.cancel() }
            drivers = [:]
            loadedProgram = nil
            let task = Task<Void, any Error> { _ = try await device.loadXclbin(xclbin) }
            loading = (job.program, task)
        }
        let key = "\(job.program)/\(job.driverKey)"
        let task: Task<any Sendable, any Error>
        if let existing = drivers[key] {
            task = existing
        } else {
            task = Task { try await job.makeDriver(on: device) as any Sendable }
            drivers[key] = task
        }
        do {
            let driver = try await task.value
            return driver as! any JobDriver<Job.Input, Job.Output>
        } catch {
            // Let a later job try again from scratch.
            if drivers[key] == task { drivers[key] = nil }
            throw error
        }
    }

    /// The classifier programs (`cnv-<model identity>`) the node can run: from its
    /// library when local, from its worker's WELCOME when remote.
    public func classifierPrograms() async -> [String] {
        switch location {
        case .local: return programs.classifierPrograms
        case .remote(let worker, let index):
            let device = await worker.welcome?.devices.first { Int($0.index) == index }
            let names = device?.programs.map(\.name) ?? []
            return names.filter { CNVModel.identity(ofProgram: $0) != nil }.sorted()
        }
    }

    /// Runs one input of `job` on this node.
    public func run<Job: DeviceJob>(_ job: Job, _ input: Job.Input) async throws -> Job.Output {
        let output: Job.Output
        switch location {
        case .local:
            let driver = try await driver(for: job)
            output = try await driver.run(input)
        case .remote(let worker, let index):
            let payload = try await worker.run(
                device: index, kind: Job.kind, parameters: job.parameters, payload: job.encode(input))
            output = try job.decodeOutput(payload)
        }
        completed[job.program, default: 0] += 1
        return output
    }

    /// After the node was lost: returns once it can take inputs again, or throws when
    /// its worker stays unreachable.
    public func recover() async throws {
        guard case .remote(let worker, _) = location else {
            throw ClusterError.workerLost(name, reason: "a local device cannot be recovered")
        }
        try await worker.reconnect()
    }
}
