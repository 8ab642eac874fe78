/// The jobs a worker process runs for remote clients, by ``DeviceJob/kind``.
public struct JobRegistry: Sendable {
    /// Runs one remote input on a node: decodes the job from its parameters, runs the
    /// payload, returns the output payload.
    public typealias Handler =
        @Sendable (_ parameters: [UInt8], _ payload: ArraySlice<UInt8>, _ node: WorkerNode) async throws ->
        ArraySlice<UInt8>

    public var handlers: [String: Handler]

    public init(_ handlers: [String: Handler]) {
        self.handlers = handlers
    }

    /// Registers a job type whose parameters decode with `make`.
    public mutating func register<Job: DeviceJob>(
        _ type: Job.Type, decoding make: @escaping @Sendable ([UInt8]) throws -> Job,
        decodeInput: @escaping @Sendable (ArraySlice<UInt8>) throws -> Job.Input,
        encodeOutput: @escaping @Sendable (Job.Output) -> ArraySlice<UInt8>
    ) {
        handlers[Job.kind] = { parameters, payload, node in
            let job = try make(parameters)
            return encodeOutput(try await node.run(job, try decodeInput(payload)))
        }
    }

    /// The jobs built into the library: gzip compression, CNV-W1A1 classification (on
    /// nodes that have the model's program), and echo (the transport alone).
    public static let builtIn: JobRegistry = {
        var registry = JobRegistry([:])
        registry.handlers[EchoJob.kind] = { _, payload, _ in payload }
        registry.register(
            GzipCompressionJob.self, decoding: { try GzipCompressionJob(parameters: $0) },
            decodeInput: { payload in payload }, encodeOutput: { $0 })
        registry.register(
            ClassificationJob.self, decoding: { try ClassificationJob(parameters: $0) },
            decodeInput: { payload in payload }, encodeOutput: { $0 })
        return registry
    }()
}
