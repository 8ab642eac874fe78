import CXRT
import FPGADevice
import FPGAExecution

/// A real accelerator card driven through the Xilinx runtime (XRT), implementing the
/// same ``Device`` model as ``SimulatedDevice``, so the same drivers run on both.
///
/// - The actor runs on its own thread; XRT calls that block (loading an xclbin, syncing
///   buffers) stall only this device. Waiting for runs happens on a pool of dedicated
///   threads, never on Swift's cooperative pool.
/// - ``loadXclbin(_:)`` needs an ``Xclbin`` read from a file (``Xclbin/load(file:name:)``):
///   the device loads its ``Xclbin/image`` after checking it again with the same AXLF
///   reader. Kernels, compute units and memory groups come from that description.
/// - Each compute unit is opened in XRT as `kernel:{instance}`; runs go to the least busy
///   unit connected to the run's buffers, so every compute unit is used.
/// - Buffers live in the memory group the caller names, whose size the xclbin's
///   `MEM_TOPOLOGY` gives; a buffer a bank cannot hold is refused before XRT sees it.
/// - Banks, buffers, argument checks and the choice of compute unit are the
///   ``LoadedProgram``'s, as on a ``SimulatedDevice``; this actor adds XRT's handles.
/// - XRT's own failures become ``DeviceError`` values; no C++ exception reaches Swift.
///
/// The environment: `XILINX_XRT` must name the XRT installation. Unless `XRT_INI_PATH`
/// names an ini file, XRT's runtime log is switched off (`Runtime.runtime_log=null`)
/// before XRT starts. `XCL_EMULATION_MODE=noop` runs the whole API without a card.
public actor XRTDevice: LoadedProgramDevice {
    public nonisolated let info: DeviceInfo
    /// XRT's name for the card's platform (shell), when XRT reports one.
    public nonisolated let platformName: String?

    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let handle: DeviceHandle
    private let serial = DeviceSerial.next()
    /// The loaded xclbin's banks and buffers, compute units and connectivity.
    package var program: LoadedProgram<BufferHandle>?
    /// XRT's argument index of each host argument, by kernel name.
    private var argumentIndices: [String: [Int]] = [:]
    /// XRT's kernel handle on each compute unit (`kernel:{instance}`), by kernel name then
    /// compute unit index, opened on first use.
    private var unitKernels: [String: [KernelHandle?]] = [:]
    private var runs: [UInt64: RunHandle] = [:]
    private var failures: [UInt64: String] = [:]
    private var nextID: UInt64 = 1
    private var waiters: BlockingThreadPool

    /// Opens device `index` (XRT's numbering), named `xrt:INDEX`.
    public init(index: Int) throws(DeviceError) {
        guard let number = UInt32(exactly: index) else { throw .unavailable("no XRT device \(index)") }
        var pointer: OpaquePointer?
        try check("open device \(index)", cxrt_device_open(number, &pointer))
        try self.init(handle: DeviceHandle(pointer!), name: "xrt:\(index)")
    }

    /// Opens the device at PCIe address `bdf` (such as `0000:65:00.1`), named `xrt:BDF`.
    public init(bdf: String) throws(DeviceError) {
        var pointer: OpaquePointer?
        try check("open device \(bdf)", cxrt_device_open_bdf(bdf, &pointer))
        try self.init(handle: DeviceHandle(pointer!), name: "xrt:\(bdf)")
    }

    private init(handle: DeviceHandle, name: String) throws(DeviceError) {
        self.handle = handle
        platformName = Self.property(of: handle.pointer, key: 0)
        info = DeviceInfo(name: name, kind: .xrt, pciAddress: Self.property(of: handle.pointer, key: 1))
        executor = ThreadExecutor(name: "xrt-\(name.dropFirst(4))")
        waiters = BlockingThreadPool(name: "xrt-wait", threads: 1)
    }

    /// A device property, or nil when XRT does not report it (the noop shim reports none).
    static func property(of device: OpaquePointer, key: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard cxrt_device_info(device, key, &buffer, buffer.count) == 0 else { return nil }
        let value = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return value.isEmpty ? nil : value
    }

    // MARK: Program

    @discardableResult
    public func loadXclbin(_ xclbin: Xclbin) throws -> XclbinUUID {
        guard let image = xclbin.image else {
            throw DeviceError.invalidXclbin(
                "\(xclbin.name) has no xclbin file behind it; a card loads files (Xclbin.load(file:name:))")
        }
        // The same reader that made the description checks the bytes XRT will read.
        let container = try AXLF(bytes: image.bytes)
        try xclbin.validate()
        if program?.hasRunsInFlight == true {
            throw DeviceError.unavailable("cannot load an xclbin on \(info.name) while runs are in flight")
        }
        // Loading replaces the program: drop every handle of the old one first.
        runs = [:]
        failures = [:]
        unitKernels = [:]
        program = nil
        var uuid = [UInt8](repeating: 0, count: 16)
        try check(
            "load \(image.path ?? xclbin.name)",
            image.bytes.withUnsafeBytes { cxrt_device_load_xclbin(handle.pointer, $0.baseAddress, $0.count, &uuid) })
        var loaded = xclbin
        loaded.uuid = XclbinUUID(bytes: uuid)
        argumentIndices = Dictionary(
            container.kernels.map { ($0.name, $0.argumentIndices) }, uniquingKeysWith: { first, _ in first })
        unitKernels = Dictionary(
            loaded.kernels.map { ($0.name, Array(repeating: nil, count: $0.computeUnits.count)) },
            uniquingKeysWith: { first, _ in first })
        // Room for every run in flight to be waited for at once (two per compute unit).
        let unitCount = loaded.kernels.reduce(0) { $0 + $1.computeUnits.count }
        waiters = BlockingThreadPool(name: "xrt-wait", threads: max(2, min(64, 2 * unitCount)))
        program = LoadedProgram(loaded, deviceSerial: serial)
        return loaded.uuid
    }

    public func openKernel(_ name: String) throws -> Kernel {
        guard let program else { throw DeviceError.noXclbinLoaded(device: info.name) }
        let kernel = try program.kernel(named: name)
        // Open each compute unit in XRT now, so that XRT's view of the kernel (its
        // arguments and memory groups) is checked against the description once.
        for index in kernel.computeUnits { _ = try computeUnitKernel(kernel.name, index) }
        return kernel
    }

    /// The XRT kernel of compute unit `index` of `kernel`, opened on first use.
    private func computeUnitKernel(_ kernel: String, _ index: Int) throws -> KernelHandle {
        guard let program, let handles = unitKernels[kernel], handles.indices.contains(index),
            let descriptor = program.xclbin.kernels.first(where: { $0.name == kernel }),
            let indices = argumentIndices[kernel]
        else { throw DeviceError.computeUnitNotFound(kernel: kernel, instance: "\(index)") }
        if let opened = handles[index] { return opened }
        var pointer: OpaquePointer?
        let name = "\(kernel):{\(descriptor.computeUnits[index].name)}"
        let uuid = program.xclbin.uuid.bytes
        try check("open kernel \(name)", cxrt_kernel_open(handle.pointer, uuid, name, &pointer))
        let opened = KernelHandle(pointer!)
        for (position, group) in descriptor.computeUnits[index].connections {
            var reported: Int32 = -1
            try check(
                "read the memory group of \(name) argument \(position)",
                cxrt_kernel_group_id(opened.pointer, UInt32(indices[position]), &reported))
            guard Int(reported) == group else {
                throw DeviceError.invalidXclbin(
                    "XRT puts argument \(descriptor.arguments[position].name) of \(name) in memory group \(reported), the xclbin's CONNECTIVITY says \(group)"
                )
            }
        }
        unitKernels[kernel]![index] = opened
        return opened
    }

    // MARK: Buffers

    public func allocateBuffer(size: Int, group: Int) throws -> BufferObject {
        try allocate(size: size, group: group, id: takeID()) { size throws(DeviceError) in
            var pointer: OpaquePointer?
            var host: UnsafeMutableRawPointer?
            try check(
                "allocate \(size) bytes in memory group \(group)",
                cxrt_bo_alloc(handle.pointer, size, Int32(group), &pointer, &host))
            return BufferHandle(pointer: pointer!, host: UnsafeMutableRawBufferPointer(start: host, count: size))
        }
    }

    public func sync(_ buffer: BufferObject, _ direction: SyncDirection, size: Int?, offset: Int) throws {
        let (storage, range) = try syncTarget(buffer, size: size, offset: offset)
        let count = range.count
        guard count > 0 else { return }
        try check(
            "sync \(count) bytes \(direction == .toDevice ? "to" : "from") the device",
            cxrt_bo_sync(storage.pointer, direction == .toDevice ? 1 : 0, count, offset))
    }

    // MARK: Runs

    public func start(_ kernel: Kernel, arguments: [KernelArgument]) throws -> Run {
        guard let indices = argumentIndices[kernel.name] else {
            throw DeviceError.kernelNotFound(kernel.name, available: xclbin?.kernels.map(\.name) ?? [])
        }
        let binding = try bind(kernel, arguments: arguments)
        guard indices.count == binding.arguments.count else {
            throw DeviceError.argumentCount(
                kernel: kernel.name, expected: binding.arguments.count, got: arguments.count)
        }
        let unit = binding.computeUnit
        let unitKernel = try computeUnitKernel(kernel.name, unit.index)
        var pointer: OpaquePointer?
        try check("create a run of \(kernel.name)", cxrt_run_create(unitKernel.pointer, &pointer))
        let record = RunHandle(pointer: pointer!, binding: binding)
        for (index, (argument, declared)) in zip(binding.arguments, binding.kernel.arguments).enumerated() {
            let xrtIndex = UInt32(indices[index])
            switch argument {
            case .buffer(let storage):
                try check(
                    "set argument \(declared.name) of \(kernel.name)",
                    cxrt_run_set_buffer(record.pointer, xrtIndex, storage.pointer))
            case .scalar(let value, let byteSize):
                try check(
                    "set argument \(declared.name) of \(kernel.name)",
                    cxrt_run_set_scalar(record.pointer, xrtIndex, value, UInt32(byteSize)))
            }
        }
        try check("start \(kernel.name):{\(unit.name)}", cxrt_run_start(record.pointer))
        binding.begin()
        let run = Run(id: takeID(), kernelName: kernel.name, computeUnit: unit.name)
        runs[run.id] = record
        return run
    }

    public func wait(_ run: Run, timeout: Duration?) async throws -> RunState {
        guard let record = runs[run.id] else { throw DeviceError.unknownRun }
        if let final = record.final { return final }
        let milliseconds: UInt32
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let total = max(0, seconds) * 1000 + attoseconds / 1_000_000_000_000_000
            milliseconds = UInt32(clamping: max(1, total))
        } else {
            milliseconds = 0  // XRT: no limit
        }
        // XRT's wait blocks its thread: do it on the device's wait threads.
        let raw = try await waiters.run { () throws(DeviceError) -> Int32 in
            var state: Int32 = 0
            try check("wait for \(run.kernelName)", cxrt_run_wait(record.pointer, milliseconds, &state))
            return state
        }
        let state = RunState(xrtState: raw)
        guard state.isFinal, state != .timeout else { return .timeout }
        // The run ended (perhaps seen by another waiter already): release what it held once.
        if record.final == nil {
            record.final = state
            record.binding.end()
        }
        if runs[run.id] === record {
            runs[run.id] = nil
            if state != .completed { failures[run.id] = "XRT reported the run \(state)" }
        }
        return state
    }

    public func runError(_ run: Run) -> String? {
        if let record = runs[run.id], let final = record.final, final != .completed {
            return "XRT reported the run \(final)"
        }
        return failures.removeValue(forKey: run.id)
    }

    // MARK: Helpers

    private func takeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }
}

extension RunState {
    /// XRT's `ert_cmd_state`: 1...9 as the cases, 10 (a soft kernel's error) as an error,
    /// anything else as still running.
    init(xrtState raw: Int32) {
        if raw == 10 {
            self = .error
        } else {
            self = RunState(rawValue: Int(raw)) ?? .running
        }
    }
}
