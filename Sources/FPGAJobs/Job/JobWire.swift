/// A job's wire codec as a value: what a ``RemoteNode`` of the cluster needs to send one of
/// the job's inputs to a worker process and read its output back.
///
/// Made from a ``RemoteJob`` conformance (``DeviceJob/wire``); a job that is not a
/// ``RemoteJob`` has none and runs only on devices in this process.
public struct JobWire<Input: Sendable, Output: Sendable>: Sendable {
    /// ``RemoteJob/kind``.
    public let kind: String
    /// The job's settings, as a RUN frame's parameters.
    public let parameters: [UInt8]
    /// An input as a RUN frame's payload.
    public let encodeInput: @Sendable (Input) throws -> ArraySlice<UInt8>
    /// An output from a RESULT frame's payload.
    public let decodeOutput: @Sendable (ArraySlice<UInt8>) throws -> Output

    /// The codec of `job`, its parameters encoded once.
    public init<Job: RemoteJob>(_ job: Job) throws where Job.Input == Input, Job.Output == Output {
        self.kind = Job.kind
        self.parameters = try job.parameters
        self.encodeInput = { try Job.encodeInput($0) }
        self.decodeOutput = { try Job.decodeOutput($0) }
    }
}
