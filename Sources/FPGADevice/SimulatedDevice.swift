import FPGAExecution
import Synchronization

/// A device in software, faithful to the host-visible behaviour of a card.
///
/// - Device memory is separate from host memory: a kernel sees only what was synced to
///   the device, and the host sees results only after syncing back.
/// - Kernels are bound by name to ``SoftwareKernel`` implementations when an xclbin is
///   loaded; their arguments must match the xclbin's declaration exactly.
/// - Each compute unit has its own thread and runs one run at a time, in start order,
///   as an `ap_ctrl_chain` unit does; an optional ``TimingModel`` makes it as slow as the
///   card it stands for: the unit computes, then stays busy until its ``clock`` says the
///   modelled time has passed.
/// - Time is a dependency: the timing model and the timeouts of ``wait(_:timeout:)`` are
///   measured on the clock given at creation (`ContinuousClock` by default). A test passes
///   a clock it advances by hand, and sees a run still running before the clock reaches
///   its modelled duration and completed after, whatever the load on the machine.
/// - Memory banks have the sizes the xclbin declares, and a buffer must be in the bank
///   its argument is connected to.
///
/// The actor runs on its own thread; syncs (memory copies) happen there.
public actor SimulatedDevice: Device {
    public nonisolated let info: DeviceInfo
    /// The timing model of each compute unit, if any.
    public nonisolated let timing: TimingModel?
    /// The clock the timing model and run-wait timeouts are measured on.
    public nonisolated let clock: any Clock<Duration>

    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let library: [String: any SoftwareKernel]
    /// Unique among the devices of this process; stamped on every buffer handle.
    private let serial = DeviceSerial.next()
    public private(set) var xclbin: Xclbin?
    private var bankUsage: [Int] = []
    private var buffers: [UInt64: SimulatedBuffer] = [:]
    /// Compute units of the loaded xclbin, by kernel name then compute unit index.
    private var units: [String: [SimulatedComputeUnit]] = [:]
    private var runs: [UInt64: SimulatedRun] = [:]
    private var nextID: UInt64 = 1

    /// Creates a device named `name` whose programs may use `kernels`, its compute units
    /// as slow as `timing` says (as fast as the host when nil), time measured on `clock`.
    public init(
        name: String, kernels: [any SoftwareKernel], timing: TimingModel? = nil,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        info = DeviceInfo(name: name, kind: .simulated)
        self.timing = timing
        self.clock = clock
        executor = ThreadExecutor(name: name)
        library = Dictionary(kernels.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    // MARK: Program

    @discardableResult
    public func loadXclbin(_ xclbin: Xclbin) throws -> XclbinUUID {
        try xclbin.validate()
        for kernel in xclbin.kernels {
            guard let implementation = library[kernel.name] else { throw DeviceError.kernelNotImplemented(kernel.name) }
            guard implementation.arguments == kernel.arguments else {
                throw DeviceError.invalidXclbin(
                    "kernel \(kernel.name) declares arguments \(kernel.arguments.map(\.name)), the implementation takes \(implementation.arguments.map(\.name))"
                )
            }
        }
        if units.values.contains(where: { $0.contains { $0.pending.load(ordering: .acquiring) > 0 } }) {
            throw DeviceError.unavailable("cannot load an xclbin on \(info.name) while runs are in flight")
        }
        // Loading replaces the program: every buffer and compute unit of the old one goes.
        buffers = [:]
        runs = [:]
        bankUsage = Array(repeating: 0, count: xclbin.memoryBanks.count)
        units = [:]
        for kernel in xclbin.kernels {
            units[kernel.name] = kernel.computeUnits.enumerated().map { index, unit in
                SimulatedComputeUnit(
                    name: unit.name, index: index, implementation: library[kernel.name]!,
                    thread: BlockingThreadPool(name: "\(info.name)-cu\(index)", threads: 1))
            }
        }
        self.xclbin = xclbin
        return xclbin.uuid
    }

    public func openKernel(_ name: String) throws -> Kernel {
        guard let xclbin else { throw DeviceError.noXclbinLoaded(device: info.name) }
        return try xclbin.kernel(named: name)
    }

    // MARK: Buffers

    public func allocateBuffer(size: Int, group: Int) throws -> BufferObject {
        guard let xclbin else { throw DeviceError.noXclbinLoaded(device: info.name) }
        guard xclbin.memoryBanks.indices.contains(group) else { throw DeviceError.invalidMemoryGroup(group) }
        guard size > 0 else { throw DeviceError.invalidBufferSize(size) }
        let available = xclbin.memoryBanks[group].size - bankUsage[group]
        guard size <= available else {
            throw DeviceError.outOfDeviceMemory(group: group, requested: size, available: available)
        }
        let id = takeID()
        buffers[id] = SimulatedBuffer(size: size, group: group)
        bankUsage[group] += size
        return BufferObject(id: id, size: size, group: group, owner: serial)
    }

    public func freeBuffer(_ buffer: BufferObject) throws {
        let storage = try lookUp(buffer)
        guard storage.runsUsing.load(ordering: .acquiring) == 0 else { throw DeviceError.bufferBusy }
        buffers[buffer.id] = nil
        bankUsage[storage.group] -= storage.size
    }

    public func withMappedBuffer<R: Sendable>(
        _ buffer: BufferObject, _ body: @Sendable (UnsafeMutableRawBufferPointer) throws -> R
    ) throws -> R {
        try body(try lookUp(buffer).host)
    }

    public func sync(_ buffer: BufferObject, _ direction: SyncDirection, size: Int?, offset: Int) throws {
        let storage = try lookUp(buffer)
        let range = try buffer.syncRange(size: size, offset: offset)
        guard storage.runsUsing.load(ordering: .acquiring) == 0 else { throw DeviceError.bufferBusy }
        let host = UnsafeMutableRawBufferPointer(rebasing: storage.host[range])
        let device = UnsafeMutableRawBufferPointer(rebasing: storage.device[range])
        switch direction {
        case .toDevice: device.copyMemory(from: UnsafeRawBufferPointer(host))
        case .fromDevice: host.copyMemory(from: UnsafeRawBufferPointer(device))
        }
    }

    // MARK: Runs

    public func start(_ kernel: Kernel, arguments: [KernelArgument]) throws -> Run {
        // Trust nothing in the handle but its name, xclbin and compute unit choice: the
        // descriptor comes from the loaded xclbin.
        guard let xclbin, kernel.xclbin == xclbin.uuid, let kernelUnits = units[kernel.name],
            let descriptor = xclbin.kernels.first(where: { $0.name == kernel.name })
        else {
            throw DeviceError.kernelNotFound(kernel.name, available: self.xclbin?.kernels.map(\.name) ?? [])
        }
        let candidates = kernel.computeUnits.filter { kernelUnits.indices.contains($0) }
        guard !candidates.isEmpty else {
            throw DeviceError.computeUnitNotFound(kernel: kernel.name, instance: "\(kernel.computeUnits)")
        }
        guard arguments.count == descriptor.arguments.count else {
            throw DeviceError.argumentCount(
                kernel: kernel.name, expected: descriptor.arguments.count, got: arguments.count)
        }
        var values: [KernelInvocation.Value] = []
        var used: [SimulatedBuffer] = []
        var bufferGroups: [(index: Int, group: Int)] = []
        for (index, (argument, declared)) in zip(arguments, descriptor.arguments).enumerated() {
            switch (argument, declared.kind) {
            case (.buffer(let buffer), .global):
                let storage = try lookUp(buffer)
                values.append(.buffer(storage.device))
                used.append(storage)
                bufferGroups.append((index, storage.group))
            case (.scalar(let value), .scalar(let byteSize)):
                guard byteSize >= 8 || value >> (UInt64(byteSize) * 8) == 0 else {
                    throw DeviceError.argumentType(
                        kernel: kernel.name, argument: declared.name,
                        expected: "a scalar that fits in \(byteSize) bytes")
                }
                values.append(.scalar(value))
            case (_, .global):
                throw DeviceError.argumentType(
                    kernel: kernel.name, argument: declared.name, expected: "a buffer object")
            case (_, .scalar):
                throw DeviceError.argumentType(kernel: kernel.name, argument: declared.name, expected: "a scalar")
            }
        }
        // As XRT does, run only on compute units connected to every buffer's bank; among
        // those, the least busy.
        let connected = candidates.filter { unit in
            bufferGroups.allSatisfy { descriptor.computeUnits[unit].connections[$0.index] == $0.group }
        }
        guard
            let unitIndex = connected.min(by: {
                kernelUnits[$0].pending.load(ordering: .relaxed) < kernelUnits[$1].pending.load(ordering: .relaxed)
            })
        else {
            let unit = descriptor.computeUnits[candidates[0]]
            let mismatch = bufferGroups.first { unit.connections[$0.index] != $0.group } ?? bufferGroups[0]
            throw DeviceError.bufferNotConnected(
                computeUnit: unit.name, argument: descriptor.arguments[mismatch.index].name,
                bufferGroup: mismatch.group, connectedGroup: unit.connections[mismatch.index] ?? -1)
        }
        let unitDescriptor = descriptor.computeUnits[unitIndex]
        let run = Run(id: takeID(), kernelName: kernel.name, computeUnit: unitDescriptor.name)
        let record = SimulatedRun()
        runs[run.id] = record
        for storage in used { storage.runsUsing.add(1, ordering: .acquiringAndReleasing) }
        let unit = kernelUnits[unitIndex]
        unit.pending.add(1, ordering: .relaxed)
        let invocation = KernelInvocationBox(
            KernelInvocation(computeUnit: unit.name, computeUnitIndex: unit.index, values: values))
        let timing = self.timing
        let clock = self.clock
        let inUse = used
        unit.thread.submit {
            // The modelled time starts when the unit takes the run, before it is seen running.
            let began = ClockDeadline.now(on: clock)
            record.setRunning()
            var failure: String?
            do {
                try unit.implementation.execute(invocation.invocation)
            } catch {
                failure = String(describing: error)
            }
            if let timing {
                // The unit stays busy (its thread blocked, later runs queued) until the
                // clock reaches the modelled end, however long the computing took.
                let target = timing.duration(forUnits: unit.implementation.workUnits(of: invocation.invocation))
                began.advanced(by: target).blockingWait()
            }
            for storage in inUse { storage.runsUsing.subtract(1, ordering: .acquiringAndReleasing) }
            unit.pending.subtract(1, ordering: .relaxed)
            record.finish(failure: failure)
        }
        return run
    }

    /// Waits for a run to finish; a timeout is measured on the device's ``clock`` from this
    /// call on.
    public func wait(_ run: Run, timeout: Duration?) async throws -> RunState {
        guard let record = runs[run.id] else { throw DeviceError.unknownRun }
        let state = try await record.wait(deadline: timeout.map { ClockDeadline(after: $0, on: clock) })
        if state.isFinal && state != .timeout {
            runs[run.id] = nil
            if let failure = record.failure { failures[run.id] = failure }
        }
        return state
    }

    /// The state of a run now, without waiting (XRT's `xrt::run::state`): `.queued` until
    /// its compute unit takes it, `.running`, then `.completed` or `.error`. A run whose
    /// final state was already returned by ``wait(_:timeout:)`` is no longer known.
    public func state(of run: Run) throws -> RunState {
        guard let record = runs[run.id] else { throw DeviceError.unknownRun }
        return record.current
    }

    /// Failure messages of failed runs already waited for, kept until asked once.
    private var failures: [UInt64: String] = [:]

    public func runError(_ run: Run) -> String? {
        if let record = runs[run.id] { return record.failure }
        return failures.removeValue(forKey: run.id)
    }

    // MARK: Helpers

    private func takeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    private func lookUp(_ buffer: BufferObject) throws -> SimulatedBuffer {
        guard buffer.owner == serial, let storage = buffers[buffer.id], storage.size == buffer.size,
            storage.group == buffer.group
        else { throw DeviceError.invalidBuffer }
        return storage
    }
}

/// Carries an invocation (raw pointers into device memory) to the compute unit thread.
///
/// `@unchecked Sendable`: the device memory it points to stays allocated while the run is
/// in flight (free and reload refuse while `runsUsing > 0`), and no other code touches
/// it then (sync refuses too), so the compute unit thread has sole access.
private final class KernelInvocationBox: @unchecked Sendable {
    let invocation: KernelInvocation
    init(_ invocation: KernelInvocation) { self.invocation = invocation }
}
