/// WELCOME (type 4), worker to client: the handshake succeeded. Describes what the worker
/// accepts and the devices it offers.
///
/// Body: string workerID, u32 maxBodyLength, u32 heartbeatIntervalMilliseconds, u16
/// deviceCount, then each ``Device``.
public struct Welcome: Sendable, Hashable {
    /// A name for the worker, unique within a cluster, for logs.
    public var workerID: String
    /// The largest frame body the worker accepts; the client must not send RUNs with longer
    /// bodies.
    public var maxBodyLength: UInt32
    /// How often both sides send HEARTBEAT on an idle connection; not 0.
    public var heartbeatIntervalMilliseconds: UInt32
    /// The worker's devices, each with a distinct index.
    public var devices: [Device]

    public init(
        workerID: String, maxBodyLength: UInt32 = UInt32(WireLimits.default.maxBodyLength),
        heartbeatIntervalMilliseconds: UInt32 = WireProtocol.defaultHeartbeatIntervalMilliseconds,
        devices: [Device]
    ) {
        self.workerID = workerID
        self.maxBodyLength = maxBodyLength
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.devices = devices
    }

    /// One device: u16 index, string name, string kind, u32 capacity, u16 programCount, then
    /// each ``Program``.
    public struct Device: Sendable, Hashable {
        /// The number RUN uses to name the device.
        public var index: UInt16
        /// The device's name, such as `xilinx_u250_gen3x16_xdma_shell_4_1` or `sim0`.
        public var name: String
        /// What drives it.
        public var kind: DeviceKind
        /// How many runs it takes at once, whatever their program; the worker holds back
        /// further RUNs for the device until one ends (a worker may answer them with RESULT
        /// `overloaded` instead). At least each program's ``Program/capacity`` plus one.
        public var capacity: UInt32
        /// The programs (xclbins) loaded on it.
        public var programs: [Program]

        public init(index: UInt16, name: String, kind: DeviceKind, capacity: UInt32, programs: [Program]) {
            self.index = index
            self.name = name
            self.kind = kind
            self.capacity = capacity
            self.programs = programs
        }
    }

    /// What drives a device: a string on the wire. Kinds this version does not know are kept.
    public struct DeviceKind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// A simulated device running the kernels on the worker's CPUs.
        public static let simulated = DeviceKind(rawValue: "simulated")
        /// A card driven through Xilinx XRT.
        public static let xrt = DeviceKind(rawValue: "xrt")

        public var description: String { rawValue }
    }

    /// A program a device can run: string name, u32 capacity, u16 kernelCount, then each
    /// ``Kernel``.
    public struct Program: Sendable, Hashable {
        /// The program's name, such as `gzip`.
        public var name: String
        /// How many inputs of a job on this program the device works on at once: what the
        /// program's driver takes (gzip: two chunks per compute unit; a FINN classifier:
        /// one batch). A client keeps that many runs in flight on the device, and one more
        /// crossing the wire. Not 0.
        public var capacity: UInt32
        /// Its kernels.
        public var kernels: [Kernel]

        public init(name: String, capacity: UInt32, kernels: [Kernel]) {
            self.name = name
            self.capacity = capacity
            self.kernels = kernels
        }
    }

    /// A kernel of a program: string name, u16 computeUnits.
    public struct Kernel: Sendable, Hashable {
        /// The kernel's name, such as `xilGzipCompBlock`.
        public var name: String
        /// How many compute units run it.
        public var computeUnits: UInt16

        public init(name: String, computeUnits: UInt16) {
            self.name = name
            self.computeUnits = computeUnits
        }
    }

    func encode(into writer: inout WireWriter) throws(WireError) {
        guard heartbeatIntervalMilliseconds > 0 else { throw .malformed("WELCOME heartbeat interval is 0") }
        try writer.string(workerID, "workerID")
        writer.u32(maxBodyLength)
        writer.u32(heartbeatIntervalMilliseconds)
        try writer.count(devices.count, "deviceCount")
        var indices = Set<UInt16>()
        for device in devices {
            guard indices.insert(device.index).inserted else {
                throw .malformed("WELCOME lists device index \(device.index) twice")
            }
            writer.u16(device.index)
            try writer.string(device.name, "device name")
            try writer.string(device.kind.rawValue, "device kind")
            writer.u32(device.capacity)
            try writer.count(device.programs.count, "programCount")
            for program in device.programs {
                try writer.string(program.name, "program name")
                guard program.capacity > 0 else { throw .malformed("WELCOME program \(program.name) has capacity 0") }
                writer.u32(program.capacity)
                try writer.count(program.kernels.count, "kernelCount")
                for kernel in program.kernels {
                    try writer.string(kernel.name, "kernel name")
                    writer.u16(kernel.computeUnits)
                }
            }
        }
    }

    /// The fewest bytes a device, a program and a kernel take.
    private static let minimumDeviceSize = 2 + 2 + 2 + 4 + 2
    private static let minimumProgramSize = 2 + 4 + 2
    private static let minimumKernelSize = 2 + 2

    static func decode(from reader: inout WireReader) throws(WireError) -> Welcome {
        let workerID = try reader.string("workerID")
        let maxBodyLength = try reader.u32("maxBodyLength")
        let heartbeat = try reader.u32("heartbeatIntervalMilliseconds")
        guard heartbeat > 0 else { throw .malformed("WELCOME heartbeat interval is 0") }
        let deviceCount = try reader.count("deviceCount", minimumEntrySize: minimumDeviceSize)
        var devices: [Device] = []
        var indices = Set<UInt16>()
        for _ in 0..<deviceCount {
            let index = try reader.u16("device index")
            guard indices.insert(index).inserted else { throw .malformed("WELCOME lists device index \(index) twice") }
            let name = try reader.string("device name")
            let kind = DeviceKind(rawValue: try reader.string("device kind"))
            let capacity = try reader.u32("device capacity")
            let programCount = try reader.count("programCount", minimumEntrySize: minimumProgramSize)
            var programs: [Program] = []
            for _ in 0..<programCount {
                let programName = try reader.string("program name")
                let programCapacity = try reader.u32("program capacity")
                guard programCapacity > 0 else { throw .malformed("WELCOME program \(programName) has capacity 0") }
                let kernelCount = try reader.count("kernelCount", minimumEntrySize: minimumKernelSize)
                var kernels: [Kernel] = []
                for _ in 0..<kernelCount {
                    let kernelName = try reader.string("kernel name")
                    kernels.append(Kernel(name: kernelName, computeUnits: try reader.u16("computeUnits")))
                }
                programs.append(Program(name: programName, capacity: programCapacity, kernels: kernels))
            }
            devices.append(Device(index: index, name: name, kind: kind, capacity: capacity, programs: programs))
        }
        return Welcome(
            workerID: workerID, maxBodyLength: maxBodyLength, heartbeatIntervalMilliseconds: heartbeat,
            devices: devices)
    }
}
