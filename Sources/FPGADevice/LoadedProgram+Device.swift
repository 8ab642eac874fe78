/// What a device keeps for one buffer object in its ``LoadedProgram``: at least the host
/// side, which ``Device/withMappedBuffer(_:_:)`` hands to its caller.
package protocol BufferStorage: Sendable {
    /// The host side of the buffer (XRT's `bo::map`).
    var host: UnsafeMutableRawBufferPointer { get }
}

/// A device whose loaded xclbin is a ``LoadedProgram``: the operations that are the same
/// on every such device (the loaded xclbin, freeing and mapping buffers, the checks
/// before a sync or a run) come from here, so that the device itself keeps only what
/// differs, such as software kernels or XRT's handles.
///
/// Package-internal: ``SimulatedDevice`` and `XRTDevice` conform; users see only
/// ``Device``.
package protocol LoadedProgramDevice: Device {
    associatedtype Storage: BufferStorage
    /// The loaded program, nil until an xclbin is loaded.
    var program: LoadedProgram<Storage>? { get set }
}

extension LoadedProgramDevice {
    /// The xclbin currently loaded, if any.
    public var xclbin: Xclbin? { program?.xclbin }

    /// Frees a buffer object and gives its bytes back to its bank.
    public func freeBuffer(_ buffer: BufferObject) throws {
        guard program != nil else { throw DeviceError.invalidBuffer }
        try program!.free(buffer)
    }

    /// Runs `body` on the host side of the buffer (XRT's `map`).
    public func withMappedBuffer<R: Sendable>(
        _ buffer: BufferObject, _ body: @Sendable (UnsafeMutableRawBufferPointer) throws -> R
    ) throws -> R {
        try body(try allocation(buffer).storage.host)
    }

    /// The live allocation `buffer` names (``LoadedProgram/allocation(_:)``);
    /// ``DeviceError/invalidBuffer`` when no program is loaded.
    package func allocation(_ buffer: BufferObject) throws(DeviceError) -> LoadedProgram<Storage>.Allocation {
        guard let program else { throw .invalidBuffer }
        return try program.allocation(buffer)
    }

    /// Allocates a buffer in the loaded program (``LoadedProgram/allocate(size:group:id:making:)``);
    /// ``DeviceError/noXclbinLoaded(device:)`` when none is loaded.
    package func allocate(
        size: Int, group: Int, id: @autoclosure () -> UInt64,
        making make: (_ size: Int) throws(DeviceError) -> Storage
    ) throws(DeviceError) -> BufferObject {
        guard program != nil else { throw .noXclbinLoaded(device: info.name) }
        return try program!.allocate(size: size, group: group, id: id(), making: make)
    }

    /// The storage of `buffer` and the bytes a sync of `size` bytes (nil: to the end) at
    /// `offset` covers, as XRT's `bo::sync` checks them: the buffer must be live, the range
    /// inside it, and no run in flight may use it (``DeviceError/bufferBusy``).
    package func syncTarget(_ buffer: BufferObject, size: Int?, offset: Int) throws(DeviceError) -> (
        storage: Storage, range: Range<Int>
    ) {
        let allocation = try allocation(buffer)
        let range = try buffer.syncRange(size: size, offset: offset)
        guard !allocation.isInUse else { throw .bufferBusy }
        return (allocation.storage, range)
    }

    /// Checks a run and chooses its compute unit (``LoadedProgram/bind(_:arguments:)``);
    /// ``DeviceError/kernelNotFound(_:available:)`` when no program is loaded.
    package func bind(_ kernel: Kernel, arguments: [KernelArgument]) throws(DeviceError)
        -> LoadedProgram<Storage>.Binding
    {
        guard let program else { throw .kernelNotFound(kernel.name, available: []) }
        return try program.bind(kernel, arguments: arguments)
    }
}
