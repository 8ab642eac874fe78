import FPGADevice
import FPGAExecution

/// Host code for `krnl_vadd` on any ``Device``: adds vectors of `UInt32` on the card.
///
/// It follows the host program of the Vitis `vadd` example, call for call (XRT's names in
/// brackets): it opens the kernel (`xrt::kernel`), allocates for each compute unit one
/// buffer object (`xrt::bo`) for each of `in1`, `in2` and `out`, large enough for
/// ``maxElements`` elements, in the memory group the compute unit connects that argument
/// to (`kernel.group_id`). Each ``add(_:_:)`` then takes a free compute unit, writes both
/// inputs into their bo's host side (`bo.map` and a copy), syncs them to the device
/// (`bo.sync(XCL_BO_SYNC_BO_TO_DEVICE)`), starts a run (`xrt::run` / `kernel(...)`),
/// waits for it (`run.wait`), syncs the result back (`bo.sync(XCL_BO_SYNC_BO_FROM_DEVICE)`)
/// and reads it.
///
/// Concurrent calls spread over every compute unit; calls beyond ``capacity`` wait for a
/// free one. The driver runs on its device's thread, so its calls into the device do not
/// hop threads.
///
/// The buffers are allocated once, when the driver is made, and stay allocated for the
/// device's program: as with the package's other drivers, they are freed when the device
/// loads another xclbin, which also ends the driver's usefulness (make a new one then).
public actor VectorAddDriver {
    /// The device the driver runs on.
    public nonisolated let device: any Device
    /// The longest vectors one call accepts.
    public nonisolated let maxElements: Int
    /// The number of compute units of `krnl_vadd` in use.
    public nonisolated let computeUnits: Int
    /// The number of additions the driver runs at once: one per compute unit.
    public nonisolated var capacity: Int { computeUnits }

    /// The device's executor: the driver's calls into the device do not hop threads.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { device.unownedExecutor }

    /// The largest ``maxElements``: `krnl_vadd`'s `size` is a C `int`.
    public static let elementLimit = Int(Int32.max)

    /// One compute unit's kernel handle and buffer objects.
    private struct Slot {
        let kernel: Kernel
        let in1: BufferObject
        let in2: BufferObject
        let out: BufferObject
    }
    private var freeSlots: [Slot]
    private let slotsAvailable: AsyncSemaphore

    /// Opens every compute unit of `krnl_vadd` in the device's loaded xclbin and allocates
    /// its buffers for vectors of up to `maxElements` elements.
    ///
    /// Throws ``VectorAddError/invalidMaxElements(_:limit:)`` unless `maxElements` is
    /// between 1 and ``elementLimit``, and the device's errors when no xclbin with
    /// `krnl_vadd` is loaded or its memory banks cannot hold the buffers.
    public init(device: any Device, maxElements: Int) async throws {
        guard maxElements > 0, maxElements <= Self.elementLimit else {
            throw VectorAddError.invalidMaxElements(maxElements, limit: Self.elementLimit)
        }
        self.device = device
        self.maxElements = maxElements
        let bytes = maxElements * VectorAddKernel.elementSize
        // xrt::kernel(device, uuid, "krnl_vadd"): all compute units, then one handle per unit.
        let all = try await device.openKernel(VectorAddKernel.kernelName)
        var slots: [Slot] = []
        for unitName in all.computeUnitNames {
            let kernel = try await device.openKernel(unitName)
            typealias Argument = VectorAddKernel.Argument
            // xrt::bo(device, bytes, kernel.group_id(argno)) for each pointer argument.
            slots.append(
                Slot(
                    kernel: kernel,
                    in1: try await device.allocateBuffer(size: bytes, group: kernel.group(forArgument: Argument.in1)),
                    in2: try await device.allocateBuffer(size: bytes, group: kernel.group(forArgument: Argument.in2)),
                    out: try await device.allocateBuffer(size: bytes, group: kernel.group(forArgument: Argument.out))))
        }
        computeUnits = slots.count
        freeSlots = slots
        slotsAvailable = AsyncSemaphore(permits: slots.count)
    }

    /// Returns `a[i] &+ b[i]` for every index (wrapping on overflow, as the card's 32-bit
    /// adders do), computed by `krnl_vadd` on the device.
    ///
    /// Throws ``VectorAddError/lengthMismatch(_:_:)`` when the lengths differ,
    /// ``VectorAddError/tooManyElements(_:limit:)`` beyond ``maxElements``, the device's
    /// errors (a failed run arrives as `DeviceError.runFailed` with the kernel's message),
    /// and `CancellationError` when the task is cancelled while it waits for a compute
    /// unit. Empty vectors give `[]` without touching the device.
    public func add(_ a: [UInt32], _ b: [UInt32]) async throws -> [UInt32] {
        let count = a.count
        guard b.count == count else { throw VectorAddError.lengthMismatch(count, b.count) }
        guard count <= maxElements else { throw VectorAddError.tooManyElements(count, limit: maxElements) }
        guard count > 0 else { return [] }
        try await slotsAvailable.acquire()
        let slot = freeSlots.removeLast()
        defer {
            freeSlots.append(slot)
            slotsAvailable.release()
        }
        let bytes = count * VectorAddKernel.elementSize
        // bo_in1.write(a), bo_in2.write(b): straight into the host side, without first
        // turning the [UInt32] into bytes.
        try await device.withMappedBuffer(slot.in1) { Self.store(a, into: $0) }
        try await device.withMappedBuffer(slot.in2) { Self.store(b, into: $0) }
        // bo.sync(XCL_BO_SYNC_BO_TO_DEVICE, bytes, 0)
        try await device.sync(slot.in1, .toDevice, size: bytes, offset: 0)
        try await device.sync(slot.in2, .toDevice, size: bytes, offset: 0)
        // auto run = krnl(bo_in1, bo_in2, bo_out, size)
        let run = try await device.start(
            slot.kernel,
            arguments: [.buffer(slot.in1), .buffer(slot.in2), .buffer(slot.out), .scalar(UInt32(count))])
        // run.wait(): the slot's buffers belong to the run until it ends, so even a
        // cancelled task waits for the end before it gives the slot back.
        try await device.waitForCompletionBeforeCancelling(run)
        // bo_out.sync(XCL_BO_SYNC_BO_FROM_DEVICE, bytes, 0), then bo_out.read(...): one
        // call, which the simulated device does with one copy.
        return try await device.syncFromDevice(slot.out, size: bytes) { Self.load(count, from: $0) }
    }

    /// Copies `values` into the start of `host` as little-endian `UInt32`s; `host` holds at
    /// least `values.count` elements (the caller checked against ``maxElements``).
    private static func store(_ values: [UInt32], into host: UnsafeMutableRawBufferPointer) {
        #if _endian(little)
            values.withUnsafeBytes { host.copyMemory(from: $0) }
        #else
            for (index, value) in values.enumerated() {
                host.storeBytes(
                    of: value.littleEndian, toByteOffset: index * VectorAddKernel.elementSize, as: UInt32.self)
            }
        #endif
    }

    /// Reads `count` little-endian `UInt32`s from the start of `host`.
    private static func load(_ count: Int, from host: UnsafeRawBufferPointer) -> [UInt32] {
        [UInt32](littleEndian: host, count: count)
    }
}
