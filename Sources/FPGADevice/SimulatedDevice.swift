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
public actor SimulatedDevice: LoadedProgramDevice {
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
    /// The loaded xclbin's banks and buffers, compute units and connectivity.
    package var program: LoadedProgram<SimulatedBuffer>?
    /// The threads and software kernels of the loaded xclbin's compute units, by kernel
    /// name then compute unit index.
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
        if program?.hasRunsInFlight == true {
            throw DeviceError.unavailable("cannot load an xclbin on \(info.name) while runs are in flight")
        }
        // Loading replaces the program: every buffer and compute unit of the old one goes.
        runs = [:]
        units = [:]
        for kernel in xclbin.kernels {
            units[kernel.name] = kernel.computeUnits.indices.map { index in
                SimulatedComputeUnit(
                    implementation: library[kernel.name]!,
                    thread: BlockingThreadPool(name: "\(info.name)-cu\(index)", threads: 1))
            }
        }
        program = LoadedProgram(xclbin, deviceSerial: serial)
        return xclbin.uuid
    }

    public func openKernel(_ name: String) throws -> Kernel {
        guard let program else { throw DeviceError.noXclbinLoaded(device: info.name) }
        return try program.kernel(named: name)
    }

    // MARK: Buffers

    public func allocateBuffer(size: Int, group: Int) throws -> BufferObject {
        try allocate(size: size, group: group, id: takeID()) { size in SimulatedBuffer(size: size) }
    }

    public func sync(_ buffer: BufferObject, _ direction: SyncDirection, size: Int?, offset: Int) throws {
        let (storage, range) = try syncTarget(buffer, size: size, offset: offset)
        let host = UnsafeMutableRawBufferPointer(rebasing: storage.host[range])
        let device = UnsafeMutableRawBufferPointer(rebasing: storage.device[range])
        switch direction {
        case .toDevice: device.copyMemory(from: UnsafeRawBufferPointer(host))
        case .fromDevice: host.copyMemory(from: UnsafeRawBufferPointer(device))
        }
    }

    /// Copies `bytes` straight into device memory, as a DMA from the caller's buffer
    /// does: the host side is not touched (one copy where a write and a sync make two).
    /// `async`, like the protocol's default, so that a call on a `SimulatedDevice` picks
    /// this one and not the default.
    public func syncToDevice<Bytes: Collection<UInt8> & Sendable>(
        _ buffer: BufferObject, from bytes: Bytes, offset: Int
    ) async throws {
        let (storage, range) = try syncTarget(buffer, size: bytes.count, offset: offset)
        UnsafeMutableRawBufferPointer(rebasing: storage.device[range]).copyBytes(of: bytes)
    }

    /// Hands `fill` device memory itself, as a peer-to-peer transfer lands there: the host
    /// side is not touched.
    public func syncToDevice(
        _ buffer: BufferObject, count: Int, offset: Int,
        filling fill: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws -> Int {
        let (storage, range) = try syncTarget(buffer, size: count, offset: offset)
        let written = try fill(UnsafeMutableRawBufferPointer(rebasing: storage.device[range]))
        guard (0...count).contains(written) else { throw DeviceError.fillOutOfRange(written, count: count) }
        return written
    }

    /// Runs `body` on the bytes in device memory, with no run in flight on the buffer;
    /// the host side is not touched.
    public func syncFromDevice<R: Sendable>(
        _ buffer: BufferObject, size: Int, offset: Int, _ body: @Sendable (UnsafeRawBufferPointer) throws -> R
    ) async throws -> R {
        let (storage, range) = try syncTarget(buffer, size: size, offset: offset)
        return try body(UnsafeRawBufferPointer(rebasing: storage.device[range]))
    }

    // MARK: Runs

    public func start(_ kernel: Kernel, arguments: [KernelArgument]) throws -> Run {
        let binding = try bind(kernel, arguments: arguments)
        let unit = binding.computeUnit
        let simulated = units[unit.kernel]![unit.index]
        let run = Run(id: takeID(), kernelName: kernel.name, computeUnit: unit.name)
        let record = SimulatedRun()
        runs[run.id] = record
        binding.begin()
        let invocation = KernelInvocationBox(
            KernelInvocation(
                computeUnit: unit.name, computeUnitIndex: unit.index,
                values: binding.arguments.map { argument in
                    switch argument {
                    case .buffer(let storage): .buffer(storage.device)
                    case .scalar(let value, _): .scalar(value)
                    }
                }))
        let timing = self.timing
        let clock = self.clock
        simulated.thread.submit {
            // The modelled time starts when the unit takes the run, before it is seen running.
            let began = ClockDeadline.now(on: clock)
            record.setRunning()
            var failure: String?
            do {
                try simulated.implementation.execute(invocation.invocation)
            } catch {
                failure = String(describing: error)
            }
            if let timing {
                // The unit stays busy (its thread blocked, later runs queued) until the
                // clock reaches the modelled end, however long the computing took.
                let target = timing.duration(forUnits: simulated.implementation.workUnits(of: invocation.invocation))
                began.advanced(by: target).blockingWait()
            }
            binding.end()
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
}

/// Carries an invocation (raw pointers into device memory) to the compute unit thread.
///
/// `@unchecked Sendable`: the device memory it points to stays allocated while the run is
/// in flight (the run holds its buffers, and free, sync and reload refuse while the loaded
/// program counts it in flight), and no other code touches it then, so the compute unit
/// thread has sole access.
private final class KernelInvocationBox: @unchecked Sendable {
    let invocation: KernelInvocation
    init(_ invocation: KernelInvocation) { self.invocation = invocation }
}
