import FPGADevice
import FPGAExecution

/// The entry point: a set of worker nodes, one per device, and the scheduler that
/// spreads jobs over them.
///
/// ```swift
/// let cluster = try Cluster(devices: .simulated(count: 2))
/// let gz = try await cluster.compress(data)
/// ```
///
/// A job's input is split into chunks; every node pulls the next chunk when it has
/// room, so faster devices take more; the results come back in input order.
public actor Cluster {
    /// Settings of a cluster.
    public struct Configuration: Sendable, Hashable {
        /// The size of the chunks compression splits its input into. Each chunk becomes
        /// one gzip member.
        public var chunkSize: Int

        /// The chunk sizes the cluster accepts.
        public static let chunkSizeRange = 1024...(64 << 20)

        /// 1 MiB: measured fastest on simulated devices (see the DocsSite's benchmark
        /// article), and small enough to balance load and bound memory.
        public static let defaultChunkSize = 1 << 20

        /// The most images one classification batch holds (see
        /// ``ClassificationJob``): the unit scattered over the nodes.
        public var batchSize: Int

        /// The batch sizes the cluster accepts (16,384 images are 48 MiB, within a
        /// frame's limit).
        public static let batchSizeRange = 1...16_384

        /// 64 images: about 2.5 ms on one core of the benchmark machine, long enough that
        /// the per-batch cost (driver calls, a frame each way for remote nodes) stays a few
        /// per cent (2 simulated devices: 46,700 images/s against 49,500 at 128 and 39,000 at
        /// 16), short enough that 100 images already spread over two nodes (the fixed cost
        /// of a small call) and large inputs balance well (see the DocsSite's benchmarks).
        public static let defaultBatchSize = 64

        public init(chunkSize: Int = Configuration.defaultChunkSize, batchSize: Int = Configuration.defaultBatchSize) {
            self.chunkSize = chunkSize
            self.batchSize = batchSize
        }
    }

    /// The nodes, one per device, in the order given.
    public nonisolated let nodes: [WorkerNode]
    /// The cluster's settings.
    public nonisolated let configuration: Configuration

    /// Workers that could not be reached when the cluster was made, with the reason.
    public nonisolated let unreachableWorkers: [String: String]

    /// A cluster of the given nodes.
    public init(nodes: [WorkerNode], configuration: Configuration = Configuration()) throws {
        try self.init(nodes: nodes, configuration: configuration, unreachableWorkers: [:])
    }

    init(nodes: [WorkerNode], configuration: Configuration, unreachableWorkers: [String: String]) throws {
        guard !nodes.isEmpty else { throw ClusterError.noDevices }
        guard Configuration.chunkSizeRange.contains(configuration.chunkSize) else {
            throw ConfigurationError.invalidChunkSize(configuration.chunkSize, range: Configuration.chunkSizeRange)
        }
        guard Configuration.batchSizeRange.contains(configuration.batchSize) else {
            throw ConfigurationError.invalidBatchSize(configuration.batchSize, range: Configuration.batchSizeRange)
        }
        self.nodes = nodes
        self.configuration = configuration
        self.unreachableWorkers = unreachableWorkers
    }

    /// A cluster with one node per local device, each able to load `programs`.
    public init(
        devices: [any Device], programs: ProgramLibrary = .builtIn, configuration: Configuration = Configuration()
    ) throws {
        try self.init(nodes: devices.map { WorkerNode(device: $0, programs: programs) }, configuration: configuration)
    }
}
