/// An accelerator card, or its simulation, driven the way XRT drives an Alveo card.
///
/// The names follow XRT's C++ API: ``loadXclbin(_:)`` is `xrt::device::load_xclbin`,
/// ``openKernel(_:)`` is `xrt::kernel(device, uuid, name)`, ``allocateBuffer(size:group:)``
/// is `xrt::bo(device, size, group)`, ``withMappedBuffer(_:_:)`` is `xrt::bo::map`,
/// ``sync(_:_:size:offset:)`` is `xrt::bo::sync`, ``start(_:arguments:)`` is
/// `xrt::run::start` and ``wait(_:timeout:)`` is `xrt::run::wait`.
///
/// Every device is an actor running on its own thread, so a blocking call inside it
/// never stalls Swift's cooperative pool.
public protocol Device: Actor {
    /// Which device this is.
    nonisolated var info: DeviceInfo { get }

    /// The xclbin currently loaded, if any.
    var xclbin: Xclbin? { get async }

    /// Loads a program, replacing the previous one; its kernels and buffers become invalid.
    @discardableResult
    func loadXclbin(_ xclbin: Xclbin) async throws -> XclbinUUID

    /// Opens a kernel of the loaded xclbin: `name` for all its compute units, or
    /// `name:{instance}` (XRT's syntax) for one.
    func openKernel(_ name: String) async throws -> Kernel

    /// Allocates a buffer object of `size` bytes in memory group `group`.
    func allocateBuffer(size: Int, group: Int) async throws -> BufferObject

    /// Frees a buffer object.
    func freeBuffer(_ buffer: BufferObject) async throws

    /// Runs `body` on the host side of the buffer (XRT's `map`). What it writes reaches
    /// the device only after ``sync(_:_:size:offset:)`` to the device.
    func withMappedBuffer<R: Sendable>(
        _ buffer: BufferObject, _ body: @Sendable (UnsafeMutableRawBufferPointer) throws -> R
    ) async throws -> R

    /// Copies between the host and device sides of a buffer.
    func sync(_ buffer: BufferObject, _ direction: SyncDirection, size: Int?, offset: Int) async throws

    /// Starts a run of the kernel with one argument per declared argument, on a compute
    /// unit the kernel handle covers (the first idle one, else the least busy).
    func start(_ kernel: Kernel, arguments: [KernelArgument]) async throws -> Run

    /// Waits for a run to finish, at most `timeout` when given; returns its final state
    /// (``RunState/timeout`` when the time ran out first).
    func wait(_ run: Run, timeout: Duration?) async throws -> RunState

    /// The error message of a failed run, once it has been waited for; nil otherwise.
    func runError(_ run: Run) async throws -> String?

    /// Puts `bytes` into device memory at `offset` of the buffer: XRT's `bo::write`
    /// followed by `bo::sync(XCL_BO_SYNC_BO_TO_DEVICE)` over the same bytes.
    ///
    /// Only the device side is promised to hold the bytes afterwards. A device may move
    /// them straight from the caller's memory, as a DMA from a user buffer does, without
    /// staging them in the host side (the ``SimulatedDevice`` does: one copy instead of
    /// two), so host code must not expect to find them by mapping the buffer. The default
    /// writes the host side and syncs it.
    func syncToDevice<Bytes: Collection<UInt8> & Sendable>(_ buffer: BufferObject, from bytes: Bytes, offset: Int)
        async throws

    /// Lets `fill` write up to `count` bytes at `offset` of the buffer and puts the bytes it
    /// wrote (the number it returns) into device memory: XRT's `bo::map`, the caller's
    /// writes, then `bo::sync(XCL_BO_SYNC_BO_TO_DEVICE)` over them. Returns that number.
    ///
    /// Made for reading a file straight into a buffer (`pread` into the mapping), with no
    /// copy of the bytes in between. The ``SimulatedDevice`` hands `fill` device memory
    /// itself, as a peer-to-peer transfer from a drive lands in card memory: the read is
    /// the only copy. `fill` runs on the device's thread and may block it (a read).
    func syncToDevice(
        _ buffer: BufferObject, count: Int, offset: Int,
        filling fill: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws -> Int

    /// Runs `body` on `size` bytes at `offset` of the buffer as device memory holds them:
    /// XRT's `bo::sync(XCL_BO_SYNC_BO_FROM_DEVICE)` over those bytes, then reading them
    /// through the mapping.
    ///
    /// A device may hand `body` the bytes without copying them into the host side (the
    /// ``SimulatedDevice`` does: a result is copied once, into wherever `body` puts it,
    /// instead of twice). The default syncs and maps.
    func syncFromDevice<R: Sendable>(
        _ buffer: BufferObject, size: Int, offset: Int, _ body: @Sendable (UnsafeRawBufferPointer) throws -> R
    ) async throws -> R
}

extension Device {
    /// Writes the host side, then syncs those bytes to the device.
    public func syncToDevice<Bytes: Collection<UInt8> & Sendable>(
        _ buffer: BufferObject, from bytes: Bytes, offset: Int
    ) async throws {
        try await write(buffer, bytes, offset: offset)
        try await sync(buffer, .toDevice, size: bytes.count, offset: offset)
    }

    /// Maps the buffer, lets `fill` write into the host side, then syncs what it wrote.
    public func syncToDevice(
        _ buffer: BufferObject, count: Int, offset: Int,
        filling fill: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws -> Int {
        let range = try buffer.syncRange(size: count, offset: offset)
        let written = try await withMappedBuffer(buffer) { host in
            try fill(UnsafeMutableRawBufferPointer(rebasing: host[range]))
        }
        guard (0...count).contains(written) else { throw DeviceError.fillOutOfRange(written, count: count) }
        try await sync(buffer, .toDevice, size: written, offset: offset)
        return written
    }

    /// Puts `bytes` into device memory at the start of the buffer
    /// (``syncToDevice(_:from:offset:)`` at offset 0).
    public func syncToDevice<Bytes: Collection<UInt8> & Sendable>(_ buffer: BufferObject, from bytes: Bytes)
        async throws
    {
        try await syncToDevice(buffer, from: bytes, offset: 0)
    }

    /// Syncs the bytes from the device, then runs `body` on them in the host side.
    public func syncFromDevice<R: Sendable>(
        _ buffer: BufferObject, size: Int, offset: Int, _ body: @Sendable (UnsafeRawBufferPointer) throws -> R
    ) async throws -> R {
        let range = try buffer.syncRange(size: size, offset: offset)
        try await sync(buffer, .fromDevice, size: size, offset: offset)
        return try await withMappedBuffer(buffer) { host in
            try body(UnsafeRawBufferPointer(rebasing: host[range]))
        }
    }

    /// Runs `body` on the first `size` bytes of the buffer as device memory holds them
    /// (``syncFromDevice(_:size:offset:_:)`` at offset 0).
    public func syncFromDevice<R: Sendable>(
        _ buffer: BufferObject, size: Int, _ body: @Sendable (UnsafeRawBufferPointer) throws -> R
    ) async throws -> R {
        try await syncFromDevice(buffer, size: size, offset: 0, body)
    }

    /// Syncs the whole buffer.
    public func sync(_ buffer: BufferObject, _ direction: SyncDirection) async throws {
        try await sync(buffer, direction, size: nil, offset: 0)
    }

    /// Copies bytes into the host side of a buffer at `offset`.
    public func write(_ buffer: BufferObject, _ bytes: some Collection<UInt8> & Sendable, offset: Int = 0) async throws
    {
        let count = bytes.count
        guard offset >= 0, count <= buffer.size - offset else {
            throw DeviceError.bufferRange(offset: offset, size: count, bufferSize: buffer.size)
        }
        try await withMappedBuffer(buffer) { host in
            UnsafeMutableRawBufferPointer(rebasing: host[offset..<(offset + count)]).copyBytes(of: bytes)
        }
    }

    /// Copies `count` bytes out of the host side of a buffer.
    public func read(_ buffer: BufferObject, offset: Int = 0, count: Int) async throws -> [UInt8] {
        guard offset >= 0, count >= 0, count <= buffer.size - offset else {
            throw DeviceError.bufferRange(offset: offset, size: count, bufferSize: buffer.size)
        }
        return try await withMappedBuffer(buffer) { host in
            Array(UnsafeRawBufferPointer(rebasing: host[offset..<(offset + count)]))
        }
    }

    /// Waits for a run as ``waitForCompletion(_:timeout:)`` does, but when the calling task
    /// is cancelled keeps waiting until the run has ended before it throws
    /// `CancellationError`: the run's buffers belong to it until then, so a caller that
    /// reuses them must not get them back early. Costs nothing extra unless cancelled.
    public func waitForCompletionBeforeCancelling(_ run: Run, timeout: Duration? = nil) async throws {
        do {
            try await waitForCompletion(run, timeout: timeout)
        } catch is CancellationError {
            // Every wait of this cancelled task would return at once: wait in a task that
            // cancellation does not reach.
            try await Task { try await self.waitForCompletion(run, timeout: timeout) }.value
            throw CancellationError()
        }
    }

    /// Waits for a run and throws unless it completed.
    public func waitForCompletion(_ run: Run, timeout: Duration? = nil) async throws {
        let state = try await wait(run, timeout: timeout)
        switch state {
        case .completed: return
        case .timeout: throw DeviceError.runTimedOut(kernel: run.kernelName)
        default:
            throw DeviceError.runFailed(kernel: run.kernelName, message: try await runError(run) ?? "state \(state)")
        }
    }
}

/// Which device this is.
public struct DeviceInfo: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A ``SimulatedDevice``: software kernels on the host's CPUs.
        case simulated
        /// A real card through XRT.
        case xrt
    }

    /// A short name, unique within a process: `sim0`, `xrt:0`.
    public var name: String
    public var kind: Kind
    /// A real card's PCIe address (`0000:65:00.1`), where the driver reports it.
    public var pciAddress: String?

    public init(name: String, kind: Kind, pciAddress: String? = nil) {
        self.name = name
        self.kind = kind
        self.pciAddress = pciAddress
    }

    public var description: String { name }
}

/// The direction of a buffer sync.
public enum SyncDirection: Sendable, Hashable {
    /// Host memory to device memory (`XCL_BO_SYNC_BO_TO_DEVICE`).
    case toDevice
    /// Device memory to host memory (`XCL_BO_SYNC_BO_FROM_DEVICE`).
    case fromDevice
}
