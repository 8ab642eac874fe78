import CoreMetrics
import FPGADevice
import FPGAExecution

/// The entry point: a set of nodes, one per device, and the scheduler that spreads jobs
/// over them.
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

        /// The chunk sizes the cluster accepts (``GzipCompressionJob/chunkSizeRange``).
        public static let chunkSizeRange = GzipCompressionJob.chunkSizeRange

        /// 2 MiB: each chunk pays fixed costs (thread handoffs between reader, device,
        /// compute unit and writer, Huffman tables, member framing) that 2 MiB halves
        /// against 1 MiB. On simulated devices it compressed and decompressed 1 GiB
        /// fastest, while memory stays small (76 MiB peak for two devices) and a 64 MiB
        /// input still spreads over 32 chunks (see the DocsSite's benchmark article).
        public static let defaultChunkSize = 2 << 20

        /// The most images one classification batch holds (see
        /// ``ClassificationJob``): the unit scattered over the nodes.
        public var batchSize: Int

        /// The batch sizes the cluster accepts (``ClassificationJob/batchSizeRange``).
        public static let batchSizeRange = ClassificationJob.batchSizeRange

        /// ``ClassificationJob/defaultBatchSize``: 64 images.
        public static let defaultBatchSize = ClassificationJob.defaultBatchSize

        /// How the cluster talks to worker processes: timeouts, heartbeats, reconnection,
        /// limits and the clock they are measured on.
        public var connection: WorkerConnection.Settings

        /// Where the cluster's own metrics go (jobs started and failed, inputs requeued; see
        /// the Observing a Cluster article): the factory the application bootstrapped
        /// unless a test gives one. Its nodes and connections have their own.
        public var metrics: any MetricsFactory = MetricsSystem.factory

        public init(
            chunkSize: Int = Configuration.defaultChunkSize, batchSize: Int = Configuration.defaultBatchSize,
            connection: WorkerConnection.Settings = WorkerConnection.Settings()
        ) {
            self.chunkSize = chunkSize
            self.batchSize = batchSize
            self.connection = connection
        }

        /// Configurations are equal when their sizes and connection settings are; the
        /// metrics factory is not compared.
        public static func == (lhs: Configuration, rhs: Configuration) -> Bool {
            lhs.chunkSize == rhs.chunkSize && lhs.batchSize == rhs.batchSize && lhs.connection == rhs.connection
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(chunkSize)
            hasher.combine(batchSize)
            hasher.combine(connection)
        }
    }

    /// The nodes, one per device, in the order given: ``LocalNode``s for devices in this
    /// process, ``RemoteNode``s for those of worker processes.
    public nonisolated let nodes: [any DeviceNode]
    /// The cluster's settings.
    public nonisolated let configuration: Configuration

    /// Workers that could not be reached when the cluster was made, with the reason.
    public nonisolated let unreachableWorkers: [String: String]

    /// A cluster of the given nodes.
    public init(nodes: [any DeviceNode], configuration: Configuration = Configuration()) throws {
        try self.init(nodes: nodes, configuration: configuration, unreachableWorkers: [:])
    }

    /// A cluster without devices, for the work that runs on this host's cores alone:
    /// ``decompress(_:progress:)`` and ``decompressFile(at:to:overwrite:progress:)``. A job
    /// for devices throws ``ClusterError/noDevices`` (a classification
    /// ``ClassificationError``) and writes nothing.
    ///
    /// Devices that such work never uses still cost their threads and programs: `fpga-compress
    /// -d` of a one-line file, which makes this cluster, takes 7.1 ms where it took 8.2 ms
    /// with one simulated device per core.
    public static func hostOnly(configuration: Configuration = Configuration()) throws -> Cluster {
        try Cluster(nodes: [], configuration: configuration, unreachableWorkers: [:], hostOnly: true)
    }

    init(
        nodes: [any DeviceNode], configuration: Configuration, unreachableWorkers: [String: String],
        hostOnly: Bool = false
    ) throws {
        guard !nodes.isEmpty || hostOnly else { throw ClusterError.noDevices }
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
        try self.init(nodes: devices.map { LocalNode(device: $0, programs: programs) }, configuration: configuration)
    }
}
