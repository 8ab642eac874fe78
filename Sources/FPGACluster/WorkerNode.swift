import FPGADevice

/// One device in the cluster, and the drivers that run jobs on it.
///
/// A node loads the program a job needs once, makes the job's driver once, and runs
/// inputs through it. The ``Cluster`` decides which inputs go where; the node only
/// runs them (the worker half of Dask's scheduler/worker split).
public actor WorkerNode {
    /// The node's name, its device's name.
    public nonisolated let name: String
    /// The device it drives.
    public nonisolated let device: any Device
    /// The programs it may load.
    public nonisolated let programs: ProgramLibrary

    private var loadedProgram: String?
    private var drivers: [String: Task<any Sendable, any Error>] = [:]
    /// Inputs completed, by program.
    public private(set) var completed: [String: Int] = [:]

    public init(device: any Device, programs: ProgramLibrary = .builtIn) {
        self.name = device.info.name
        self.device = device
        self.programs = programs
    }

    /// The node's driver for `job`, made on first use.
    public func driver<Job: DeviceJob>(for job: Job) async throws -> any JobDriver<Job.Input, Job.Output> {
        if loadedProgram != job.program {
            guard let xclbin = programs.programs[job.program] else {
                throw ClusterError.programUnavailable(job.program, node: name)
            }
            // Another program's drivers hold buffers of the old xclbin: drop them first.
            for task in drivers.values { task.cancel() }
            drivers = [:]
            try await device.loadXclbin(xclbin)
            loadedProgram = job.program
        }
        let key = "\(job.program)/\(job.driverKey)"
        let task: Task<any Sendable, any Error>
        if let existing = drivers[key] {
            task = existing
        } else {
            let device = self.device
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

    /// Runs one input of `job` on this node.
    public func run<Job: DeviceJob>(_ job: Job, _ input: Job.Input) async throws -> Job.Output {
        let driver = try await driver(for: job)
        let output = try await driver.run(input)
        completed[job.program, default: 0] += 1
        return output
    }
}
