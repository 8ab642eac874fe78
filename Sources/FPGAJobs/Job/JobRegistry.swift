/// The jobs a worker process runs for its clients, by ``RemoteJob/kind``.
///
/// ```swift
/// var jobs = JobRegistry.builtIn
/// jobs.register(VectorAddJob.self)
/// let server = WorkerServer(nodes: nodes, token: token, jobs: jobs)
/// ```
public struct JobRegistry: Sendable {
    /// Runs one remote input on a node: rebuilds the job from its parameters, decodes the
    /// payload, runs it, and returns the encoded output.
    public typealias Handler =
        @Sendable (_ parameters: [UInt8], _ payload: ArraySlice<UInt8>, _ node: LocalNode) async throws ->
        ArraySlice<UInt8>

    /// The handlers, by job kind.
    public var handlers: [String: Handler]

    public init(_ handlers: [String: Handler] = [:]) {
        self.handlers = handlers
    }

    /// Registers `type` under its ``RemoteJob/kind``: a run of that kind rebuilds the job
    /// with ``RemoteJob/init(parameters:)``, decodes its input, runs it on the node and
    /// encodes the output. A job registered under the same kind before is replaced.
    public mutating func register<Job: RemoteJob>(_ type: Job.Type) {
        handlers[Job.kind] = { parameters, payload, node in
            let job = try Job(parameters: parameters)
            return try Job.encodeOutput(try await node.run(job, try Job.decodeInput(payload)))
        }
    }

    /// The kinds registered.
    public var kinds: [String] { handlers.keys.sorted() }

    /// The jobs built into the library: gzip compression, CNV-W1A1 classification (on
    /// nodes that have the model's program), and echo (the transport alone, answered by
    /// the worker without touching a device).
    public static let builtIn: JobRegistry = {
        var registry = JobRegistry()
        registry.register(GzipCompressionJob.self)
        registry.register(ClassificationJob.self)
        registry.handlers[EchoJob.kind] = { _, payload, _ in payload }
        return registry
    }()
}
