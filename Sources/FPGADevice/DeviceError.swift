/// What can go wrong between the host and a device.
public enum DeviceError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The program file or description is not a usable xclbin.
    case invalidXclbin(String)
    /// A kernel was opened before any xclbin was loaded.
    case noXclbinLoaded(device: String)
    /// No kernel of that name in the loaded xclbin.
    case kernelNotFound(String, available: [String])
    /// A `kernel:{instance}` name whose instance the kernel does not have.
    case computeUnitNotFound(kernel: String, instance: String)
    /// The simulated device has no software implementation of a kernel the xclbin declares.
    case kernelNotImplemented(String)
    /// A run was started with the wrong number of arguments.
    case argumentCount(kernel: String, expected: Int, got: Int)
    /// An argument of the wrong kind (buffer for scalar or the reverse), or a scalar too wide.
    case argumentType(kernel: String, argument: String, expected: String)
    /// A buffer in a memory group the compute unit's argument is not connected to.
    case bufferNotConnected(computeUnit: String, argument: String, bufferGroup: Int, connectedGroup: Int)
    /// A memory group id the loaded xclbin does not have.
    case invalidMemoryGroup(Int)
    /// A buffer size that is zero or negative.
    case invalidBufferSize(Int)
    /// Not enough free memory in the bank.
    case outOfDeviceMemory(group: Int, requested: Int, available: Int)
    /// A buffer that was freed, or belongs to another device.
    case invalidBuffer
    /// An offset and size outside the buffer.
    case bufferRange(offset: Int, size: Int, bufferSize: Int)
    /// A sync or free of a buffer that a run still uses.
    case bufferBusy
    /// A fill of ``Device/syncToDevice(_:count:offset:filling:)`` that said it wrote a
    /// number of bytes outside `0...count`.
    case fillOutOfRange(Int, count: Int)
    /// A kernel run ended in error.
    case runFailed(kernel: String, message: String)
    /// A run did not complete within the timeout.
    case runTimedOut(kernel: String)
    /// A run handle this device does not know.
    case unknownRun
    /// The device is not usable (closed, lost, or not found).
    case unavailable(String)
    /// The Xilinx runtime (XRT) refused an operation; the message is XRT's.
    case runtime(operation: String, message: String)

    public var description: String {
        switch self {
        case .invalidXclbin(let reason): "invalid xclbin: \(reason)"
        case .noXclbinLoaded(let device): "no xclbin is loaded on \(device)"
        case .kernelNotFound(let name, let available):
            "no kernel named \(name) in the loaded xclbin (it has: \(available.joined(separator: ", ")))"
        case .computeUnitNotFound(let kernel, let instance): "kernel \(kernel) has no compute unit \(instance)"
        case .kernelNotImplemented(let name): "the simulated device has no implementation of kernel \(name)"
        case .argumentCount(let kernel, let expected, let got):
            "kernel \(kernel) takes \(expected) arguments, got \(got)"
        case .argumentType(let kernel, let argument, let expected):
            "argument \(argument) of kernel \(kernel) must be \(expected)"
        case .bufferNotConnected(let unit, let argument, let bufferGroup, let connectedGroup):
            "argument \(argument) of \(unit) is connected to memory group \(connectedGroup), but the buffer is in group \(bufferGroup)"
        case .invalidMemoryGroup(let group): "memory group \(group) does not exist"
        case .invalidBufferSize(let size): "a buffer object needs a positive size, not \(size)"
        case .outOfDeviceMemory(let group, let requested, let available):
            "memory group \(group) has \(available) bytes free, \(requested) requested"
        case .invalidBuffer: "the buffer object was freed or belongs to another device"
        case .bufferRange(let offset, let size, let bufferSize):
            "range \(offset)..<\(offset + size) is outside the \(bufferSize)-byte buffer"
        case .bufferBusy: "the buffer object is in use by a running kernel"
        case .fillOutOfRange(let written, let count): "a fill of \(count) bytes said it wrote \(written)"
        case .runFailed(let kernel, let message): "kernel \(kernel) failed: \(message)"
        case .runTimedOut(let kernel): "kernel \(kernel) did not complete in time"
        case .unknownRun: "unknown run handle"
        case .unavailable(let reason): "device unavailable: \(reason)"
        case .runtime(let operation, let message): "XRT could not \(operation): \(message)"
        }
    }
}
