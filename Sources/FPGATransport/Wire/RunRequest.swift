/// RUN (type 5), client to worker: run a job on one device. The frame's request id names
/// the run and is not 0.
///
/// Body: u16 deviceIndex, string jobKind, bytes parameters, then the payload: the rest of
/// the body, with no length of its own, so that it can be sent from its own buffer.
public struct RunRequest: Sendable, Hashable {
    /// The device, as WELCOME numbered it.
    public var deviceIndex: UInt16
    /// Which job, such as `gzip-compress`.
    public var jobKind: String
    /// The job's parameters, in the job's own encoding.
    public var parameters: [UInt8]

    public init(deviceIndex: UInt16, jobKind: String, parameters: [UInt8] = []) {
        self.deviceIndex = deviceIndex
        self.jobKind = jobKind
        self.parameters = parameters
    }

    func encode(into writer: inout WireWriter) throws(WireError) {
        writer.u16(deviceIndex)
        try writer.string(jobKind, "jobKind")
        try writer.byteString(parameters, "parameters")
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> RunRequest {
        let device = try reader.u16("deviceIndex")
        let kind = try reader.string("jobKind")
        return RunRequest(deviceIndex: device, jobKind: kind, parameters: try reader.byteString("parameters"))
    }
}
