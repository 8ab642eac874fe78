/// What one device of a cluster is doing: the row of a status table and of a dashboard.
///
/// A ``LocalNode`` reports its own; a worker process reports those of its devices in a
/// STATUS reply; `Cluster.status()` (in FPGACluster) gathers one per node. Counters count
/// from the node's start; ``history`` holds the last minutes, a second per sample.
public struct DeviceStatus: Sendable, Hashable, Codable {
    /// Where the device is: the host name of the process that holds it, or the address of
    /// its worker process as the cluster reaches it (`10.0.0.7:7070`).
    public var host: String
    /// The device's name within its process: `sim0`, `xrt:0`.
    public var device: String
    /// `simulated` or `xrt` (a `DeviceInfo.Kind`'s raw value).
    public var kind: String
    /// The program loaded on the device now, if any.
    public var program: String?
    /// The compute units of the loaded program's kernels (0 with none loaded).
    public var computeUnits: Int
    /// Inputs the device is running now: at most one per compute unit.
    public var running: Int
    /// Inputs handed to the device's driver that wait for a compute unit.
    public var queued: Int
    /// Inputs whose run gave an output.
    public var completed: UInt64
    /// Inputs whose run threw.
    public var failed: UInt64
    /// Bytes of the completed runs' inputs (jobs that count bytes).
    public var inputBytes: UInt64
    /// Bytes of their outputs.
    public var outputBytes: UInt64
    /// Time with at least one input in the driver, in seconds.
    public var busySeconds: Double
    /// Why the device is not usable; `nil` when it is (see ``DeviceHealth``), or why its
    /// status could not be had (its worker process is unreachable).
    public var problem: String?
    /// The last complete seconds, oldest first.
    public var history: [ActivityHistory.Sample]

    public init(
        host: String, device: String, kind: String, program: String? = nil, computeUnits: Int = 0, running: Int = 0,
        queued: Int = 0, completed: UInt64 = 0, failed: UInt64 = 0, inputBytes: UInt64 = 0, outputBytes: UInt64 = 0,
        busySeconds: Double = 0, problem: String? = nil, history: [ActivityHistory.Sample] = []
    ) {
        self.host = host
        self.device = device
        self.kind = kind
        self.program = program
        self.computeUnits = computeUnits
        self.running = running
        self.queued = queued
        self.completed = completed
        self.failed = failed
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
        self.busySeconds = busySeconds
        self.problem = problem
        self.history = history
    }

    /// Seconds of ``history`` that the table's rates are taken over.
    public static let rateWindow = 5

    /// The busy fraction over the last ``rateWindow`` seconds, 0...1.
    public var recentBusy: Double { history.suffix(Self.rateWindow).meanBusy }

    /// Input bytes per second over the last ``rateWindow`` seconds.
    public var recentInputBytesPerSecond: Double { history.suffix(Self.rateWindow).inputBytesPerSecond }
}

extension ArraySlice<ActivityHistory.Sample> {
    fileprivate var meanBusy: Double { Array(self).meanBusy }
    fileprivate var inputBytesPerSecond: Double { Array(self).inputBytesPerSecond }
}
