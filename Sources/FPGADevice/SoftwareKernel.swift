/// A kernel implemented in software, which a ``SimulatedDevice`` binds to the kernel of
/// the same name when it loads an xclbin.
///
/// An implementation sees only device memory: the bytes a host synced to the device
/// before the run. It runs on the compute unit's own thread and may block.
public protocol SoftwareKernel: Sendable {
    /// The kernel name the xclbin uses.
    var name: String { get }
    /// The arguments, in order, exactly as the real bitstream declares them.
    var arguments: [ArgumentDescriptor] { get }
    /// The size of a run's work for the timing model: bytes, images, or whatever unit
    /// the model's rate is given in.
    func workUnits(of invocation: KernelInvocation) -> Int
    /// Executes one run. A thrown error puts the run in the error state with the error's
    /// description as its message.
    func execute(_ invocation: KernelInvocation) throws
}

/// The arguments of one run, as a compute unit sees them.
public struct KernelInvocation {
    /// The instance name of the compute unit running it.
    public let computeUnit: String
    /// The compute unit's index within its kernel.
    public let computeUnitIndex: Int
    private let values: [Value]

    enum Value {
        case buffer(UnsafeMutableRawBufferPointer)
        case scalar(UInt64)
    }

    init(computeUnit: String, computeUnitIndex: Int, values: [Value]) {
        self.computeUnit = computeUnit
        self.computeUnitIndex = computeUnitIndex
        self.values = values
    }

    /// The device memory of pointer argument `index`.
    public func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer {
        guard case .buffer(let memory) = values[index] else {
            preconditionFailure("argument \(index) is not a buffer; the device checks argument kinds at start")
        }
        return memory
    }

    /// The value of scalar argument `index`.
    public func scalar(_ index: Int) -> UInt64 {
        guard case .scalar(let value) = values[index] else {
            preconditionFailure("argument \(index) is not a scalar; the device checks argument kinds at start")
        }
        return value
    }
}

/// An error a software kernel reports; the run ends in ``RunState/error``.
public struct KernelFault: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
