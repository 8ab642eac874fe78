/// STATUS_REPORT (type 12), worker to client: what each of the worker's devices is doing,
/// in answer to the STATUS with the same request id. (STATUS, type 11, has an empty body.)
///
/// Body: u16 deviceCount, then each ``Device``.
public struct StatusReport: Sendable, Hashable {
    /// The worker's devices, each with a distinct index.
    public var devices: [Device]

    /// A report of `devices`, each with a distinct index.
    public init(devices: [Device]) {
        self.devices = devices
    }

    /// The most samples a device's history may carry: five minutes of seconds.
    public static let maxSamples = 300
    /// A sample's busy fraction is sent in units of 1/10000: 10000 is a second fully busy.
    public static let busyScale: UInt16 = 10_000

    /// One device: u16 index, string name, string kind, u8 flag and string program, u32
    /// computeUnits, u32 running, u32 queued, u64 completed, u64 failed, u64 inputBytes, u64
    /// outputBytes, u64 busyNanoseconds, u8 flag and string problem, u16 sampleCount (at
    /// most ``StatusReport/maxSamples``), then each ``Sample``.
    public struct Device: Sendable, Hashable {
        /// The number WELCOME gave the device.
        public var index: UInt16
        /// The device's name, such as `sim0`.
        public var name: String
        /// What drives it: `simulated`, `xrt`.
        public var kind: String
        /// The program loaded on it now, if any.
        public var program: String?
        /// The compute units of the loaded program's kernels.
        public var computeUnits: UInt32
        /// Inputs running now.
        public var running: UInt32
        /// Inputs waiting for a compute unit.
        public var queued: UInt32
        /// Inputs completed since the worker started.
        public var completed: UInt64
        /// Inputs whose run failed since the worker started.
        public var failed: UInt64
        /// Bytes of the completed inputs.
        public var inputBytes: UInt64
        /// Bytes of their outputs.
        public var outputBytes: UInt64
        /// Time with at least one input on the device, in nanoseconds.
        public var busyNanoseconds: UInt64
        /// Why the device is not usable, if it is not.
        public var problem: String?
        /// The last complete seconds, oldest first; at most ``StatusReport/maxSamples``.
        public var history: [Sample]

        /// A device's entry; what is not given is 0, absent or empty.
        public init(
            index: UInt16, name: String, kind: String, program: String? = nil, computeUnits: UInt32 = 0,
            running: UInt32 = 0, queued: UInt32 = 0, completed: UInt64 = 0, failed: UInt64 = 0,
            inputBytes: UInt64 = 0, outputBytes: UInt64 = 0, busyNanoseconds: UInt64 = 0, problem: String? = nil,
            history: [Sample] = []
        ) {
            self.index = index
            self.name = name
            self.kind = kind
            self.program = program
            self.computeUnits = computeUnits
            self.running = running
            self.queued = queued
            self.completed = completed
            self.failed = failed
            self.inputBytes = inputBytes
            self.outputBytes = outputBytes
            self.busyNanoseconds = busyNanoseconds
            self.problem = problem
            self.history = history
        }
    }

    /// One second of a device's activity: u64 inputBytes, u64 outputBytes, u32 completed,
    /// u16 busy (in 1/10000 of the second, at most 10000).
    public struct Sample: Sendable, Hashable {
        /// Bytes of the inputs completed in the second.
        public var inputBytes: UInt64
        /// Bytes of their outputs.
        public var outputBytes: UInt64
        /// Inputs completed in the second.
        public var completed: UInt32
        /// The part of the second the device was busy, in 1/10000ths (0...10000).
        public var busy: UInt16

        /// A second's sample; `busy` in 1/10000ths, at most ``StatusReport/busyScale``.
        public init(inputBytes: UInt64 = 0, outputBytes: UInt64 = 0, completed: UInt32 = 0, busy: UInt16 = 0) {
            self.inputBytes = inputBytes
            self.outputBytes = outputBytes
            self.completed = completed
            self.busy = busy
        }
    }

    /// The fewest bytes a device takes: empty strings, no program, no problem, no samples.
    private static let minimumDeviceSize = 2 + 2 + 2 + 1 + 4 * 3 + 8 * 5 + 1 + 2
    /// The bytes a sample takes.
    private static let sampleSize = 8 + 8 + 4 + 2

    func encode(into writer: inout WireWriter) throws(WireError) {
        try writer.count(devices.count, "deviceCount")
        var indices = Set<UInt16>()
        for device in devices {
            guard indices.insert(device.index).inserted else {
                throw .malformed("STATUS_REPORT lists device index \(device.index) twice")
            }
            writer.u16(device.index)
            try writer.string(device.name, "device name")
            try writer.string(device.kind, "device kind")
            try Self.encodeOptional(device.program, "program", into: &writer)
            writer.u32(device.computeUnits)
            writer.u32(device.running)
            writer.u32(device.queued)
            writer.u64(device.completed)
            writer.u64(device.failed)
            writer.u64(device.inputBytes)
            writer.u64(device.outputBytes)
            writer.u64(device.busyNanoseconds)
            if let problem = device.problem {
                writer.u8(1)
                writer.text(problem)
            } else {
                writer.u8(0)
            }
            guard device.history.count <= Self.maxSamples else {
                throw .malformed(
                    "STATUS_REPORT device \(device.index) has \(device.history.count) samples, more than \(Self.maxSamples)"
                )
            }
            writer.u16(UInt16(device.history.count))
            for sample in device.history {
                guard sample.busy <= Self.busyScale else {
                    throw .malformed("STATUS_REPORT sample busy is \(sample.busy), more than \(Self.busyScale)")
                }
                writer.u64(sample.inputBytes)
                writer.u64(sample.outputBytes)
                writer.u32(sample.completed)
                writer.u16(sample.busy)
            }
        }
    }

    private static func encodeOptional(_ value: String?, _ field: String, into writer: inout WireWriter)
        throws(WireError)
    {
        guard let value else {
            writer.u8(0)
            return
        }
        writer.u8(1)
        try writer.string(value, field)
    }

    private static func decodeOptional(_ field: String, from reader: inout WireReader) throws(WireError) -> String? {
        let present = try reader.u8("\(field) flag")
        switch present {
        case 0: return nil
        case 1: return try reader.string(field)
        default: throw .malformed("STATUS_REPORT \(field) flag is \(present), not 0 or 1")
        }
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> StatusReport {
        let deviceCount = try reader.count("deviceCount", minimumEntrySize: minimumDeviceSize)
        var devices: [Device] = []
        var indices = Set<UInt16>()
        for _ in 0..<deviceCount {
            let index = try reader.u16("device index")
            guard indices.insert(index).inserted else {
                throw .malformed("STATUS_REPORT lists device index \(index) twice")
            }
            let name = try reader.string("device name")
            let kind = try reader.string("device kind")
            let program = try decodeOptional("program", from: &reader)
            let computeUnits = try reader.u32("computeUnits")
            let running = try reader.u32("running")
            let queued = try reader.u32("queued")
            let completed = try reader.u64("completed")
            let failed = try reader.u64("failed")
            let inputBytes = try reader.u64("inputBytes")
            let outputBytes = try reader.u64("outputBytes")
            let busy = try reader.u64("busyNanoseconds")
            let problem = try decodeOptional("problem", from: &reader)
            let sampleCount = try reader.count("sampleCount", minimumEntrySize: sampleSize)
            guard sampleCount <= maxSamples else {
                throw .malformed("STATUS_REPORT sampleCount is \(sampleCount), more than \(maxSamples)")
            }
            var history: [Sample] = []
            history.reserveCapacity(sampleCount)
            for _ in 0..<sampleCount {
                let sampleInput = try reader.u64("sample inputBytes")
                let sampleOutput = try reader.u64("sample outputBytes")
                let sampleCompleted = try reader.u32("sample completed")
                let sampleBusy = try reader.u16("sample busy")
                guard sampleBusy <= busyScale else {
                    throw .malformed("STATUS_REPORT sample busy is \(sampleBusy), more than \(busyScale)")
                }
                history.append(
                    Sample(
                        inputBytes: sampleInput, outputBytes: sampleOutput, completed: sampleCompleted,
                        busy: sampleBusy))
            }
            devices.append(
                Device(
                    index: index, name: name, kind: kind, program: program, computeUnits: computeUnits,
                    running: running, queued: queued, completed: completed, failed: failed, inputBytes: inputBytes,
                    outputBytes: outputBytes, busyNanoseconds: busy, problem: problem, history: history))
        }
        return StatusReport(devices: devices)
    }
}
