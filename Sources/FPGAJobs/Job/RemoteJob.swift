import FPGATransport

/// How a ``DeviceJob`` crosses the wire to a worker process: its name there, its
/// settings, and the encoding of its inputs and outputs.
///
/// The client encodes the job's settings into the RUN frame's parameters and each input
/// into its payload; the worker process finds the job by ``kind`` in its ``JobRegistry``,
/// rebuilds it with ``init(parameters:)`` (checking the settings as it must: they come
/// from the network), decodes the input, runs it on its own ``LocalNode`` and sends the
/// encoded output back. Use FPGATransport's `WireWriter` and `WireReader` (little-endian
/// fields, every read bounds-checked) for the encodings.
///
/// Jobs whose inputs and outputs are bytes (`ArraySlice<UInt8>`) get codecs that send them
/// as they are, without copying.
public protocol RemoteJob: DeviceJob {
    /// The job's name on the wire, unique among the jobs a worker registers.
    static var kind: String { get }
    /// Writes the job's settings, as ``init(parameters:)`` reads them.
    func encodeParameters(into writer: inout WireWriter) throws
    /// Rebuilds the job from the parameters of a RUN frame; throws when they are not
    /// valid (the worker answers the run with `invalidParameters`).
    init(parameters: inout WireReader) throws

    /// An input as a RUN frame's payload.
    static func encodeInput(_ input: Input) throws -> ArraySlice<UInt8>
    /// An input from a RUN frame's payload; throws when the bytes are not one.
    static func decodeInput(_ payload: ArraySlice<UInt8>) throws -> Input
    /// An output as a RESULT frame's payload.
    static func encodeOutput(_ output: Output) throws -> ArraySlice<UInt8>
    /// An output from a RESULT frame's payload; throws when the bytes are not one.
    static func decodeOutput(_ payload: ArraySlice<UInt8>) throws -> Output
}

extension RemoteJob {
    /// The job's wire codec, from its ``RemoteJob`` conformance.
    public var wire: JobWire<Input, Output>? {
        get throws { try JobWire(self) }
    }

    /// The job's settings as a RUN frame's parameters.
    public var parameters: [UInt8] {
        get throws {
            var writer = WireWriter(context: "\(Self.kind) parameters")
            try encodeParameters(into: &writer)
            return writer.bytes
        }
    }

    /// Rebuilds the job from a RUN frame's parameters, which must all be read.
    public init(parameters: [UInt8]) throws {
        var reader = WireReader(parameters[...], context: "\(Self.kind) parameters")
        try self.init(parameters: &reader)
        try reader.finish()
    }
}

extension RemoteJob where Input == ArraySlice<UInt8> {
    /// Bytes in, as they are.
    public static func encodeInput(_ input: Input) -> ArraySlice<UInt8> { input }
    /// Bytes in, as they are.
    public static func decodeInput(_ payload: ArraySlice<UInt8>) -> Input { payload }
}

extension RemoteJob where Output == ArraySlice<UInt8> {
    /// Bytes out, as they are.
    public static func encodeOutput(_ output: Output) -> ArraySlice<UInt8> { output }
    /// Bytes out, as they are.
    public static func decodeOutput(_ payload: ArraySlice<UInt8>) -> Output { payload }
}
