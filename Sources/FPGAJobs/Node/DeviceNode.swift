/// One device as the cluster schedules it: a ``LocalNode`` for a device in this process,
/// a `RemoteNode` (in FPGACluster) for a device of a worker process.
///
/// The cluster asks each node how many inputs of a job it takes at once, then keeps that
/// many in flight on it; it neither knows nor cares where the device is, except that a
/// node that can be recovered (``canRecover``) gets its failed inputs back after
/// ``recover()`` while the others take them meanwhile.
public protocol DeviceNode: Actor {
    /// The node's name, unique within a cluster: its device's name (`sim0`), prefixed by
    /// its worker process's address for a remote one (`10.0.0.7:7070/sim0`).
    nonisolated var name: String { get }

    /// Whether a node that failed with a lost connection can come back (see ``recover()``).
    nonisolated var canRecover: Bool { get }

    /// How many inputs of `job` the node works on at once; throws when it cannot run the
    /// job at all (no such program, say).
    func capacity<Job: DeviceJob>(for job: Job) async throws -> Int

    /// Runs one input of `job`.
    func run<Job: DeviceJob>(_ job: Job, _ input: Job.Input) async throws -> Job.Output

    /// Runs one input of `job` whose bytes are read when the node has room for them (a
    /// chunk of a file): a ``LocalNode`` whose driver is a ``DeferredInputDriver`` reads
    /// them straight into its device buffer; other nodes load them and run them as bytes.
    func run<Job: DeviceJob>(_ job: Job, deferred input: DeferredBytes) async throws -> Job.Output
    where Job.Input == ArraySlice<UInt8>

    /// The names of the programs the node can run.
    func programNames() async -> [String]

    /// What the device is doing now (see ``DeviceStatus``). Never throws: a node whose
    /// status cannot be had says why in ``DeviceStatus/problem``.
    func status() async -> DeviceStatus

    /// Inputs completed, by program.
    var completed: [String: Int] { get }

    /// After the node was lost: returns once it can take inputs again, or throws when it
    /// cannot come back.
    func recover() async throws
}

extension DeviceNode {
    /// Loads the bytes (off the cooperative pool) and runs them.
    public func run<Job: DeviceJob>(_ job: Job, deferred input: DeferredBytes) async throws -> Job.Output
    where Job.Input == ArraySlice<UInt8> {
        try await run(job, try await input.load())
    }
}
