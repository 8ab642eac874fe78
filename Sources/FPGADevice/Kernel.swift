/// A handle to a kernel of the loaded xclbin (XRT's `xrt::kernel`), covering all its
/// compute units or just one.
public struct Kernel: Sendable, Hashable {
    /// The kernel's name, without any `:{instance}` suffix.
    public let name: String
    /// What the xclbin declares about the kernel.
    public let descriptor: KernelDescriptor
    /// The compute units this handle runs on (indices into `descriptor.computeUnits`).
    public let computeUnits: [Int]
    /// The xclbin the kernel belongs to.
    public let xclbin: XclbinUUID

    public init(name: String, descriptor: KernelDescriptor, computeUnits: [Int], xclbin: XclbinUUID) {
        self.name = name
        self.descriptor = descriptor
        self.computeUnits = computeUnits
        self.xclbin = xclbin
    }

    /// The memory group of a pointer argument on this handle's first compute unit
    /// (XRT's `kernel.group_id(argno)`).
    public func group(forArgument index: Int) throws(DeviceError) -> Int {
        guard descriptor.arguments.indices.contains(index) else {
            throw .argumentCount(kernel: name, expected: descriptor.arguments.count, got: index + 1)
        }
        guard let first = computeUnits.first, descriptor.computeUnits.indices.contains(first) else {
            throw .computeUnitNotFound(kernel: name, instance: "\(computeUnits)")
        }
        let unit = descriptor.computeUnits[first]
        guard let group = unit.connections[index] else {
            throw .argumentType(
                kernel: name, argument: descriptor.arguments[index].name, expected: "a pointer argument")
        }
        return group
    }

    /// The handle's compute unit names, `kernel:{instance}` form.
    public var computeUnitNames: [String] {
        computeUnits.map { "\(name):{\(descriptor.computeUnits[$0].name)}" }
    }
}

/// A handle to one kernel run (XRT's `xrt::run`).
public struct Run: Sendable, Hashable {
    public let id: UInt64
    public let kernelName: String
    /// The instance name of the compute unit it runs on.
    public let computeUnit: String

    public init(id: UInt64, kernelName: String, computeUnit: String) {
        self.id = id
        self.kernelName = kernelName
        self.computeUnit = computeUnit
    }
}

/// The state of a run, after XRT's `ert_cmd_state`.
public enum RunState: Int, Sendable, Hashable {
    case new = 1
    case queued = 2
    case completed = 4
    case error = 5
    case abort = 6
    case submitted = 7
    case timeout = 8
    case noResponse = 9
    case running = 3

    /// Whether the run has finished, one way or another.
    public var isFinal: Bool {
        switch self {
        case .completed, .error, .abort, .timeout, .noResponse: true
        default: false
        }
    }
}
