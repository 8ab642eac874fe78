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
/// - XRT's own failures become ``DeviceError`` values; no C++ exception reaches Swift.
///
/// The environment: `XILINX_XRT` must name the XRT installation. Unless `XRT_INI_PATH`
/// names an ini file, XRT's runtime log is switched off (`Runtime.runtime_log=null`)
/// before XRT starts. `XCL_EMULATION_MODE=noop` runs the whole API without a card.
public actor XRTDevice: Device {
    public nonisolated let info: DeviceInfo
    /// XRT's name for the card's platform (shell), when XRT reports one.
    public nonisolated let platformName: String?

    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let handle: DeviceHandle
    private let serial = DeviceSerial.next()
    public private(set) var xclbin: Xclbin?
    /// XRT's argument index of each host argument, by kernel name.
    private var argumentIndices: [String: [Int]] = [:]
    private var units: [String: [ComputeUnitState]] = [:]
    private var bankUsage: [Int] = []
    private var buffers: [UInt64: BufferHandle] = [:]
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
        info = DeviceInfo(name: name, kind: .xrt)
        platformName = Self.property(of: handle.pointer, key: 0)
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
        guard units.values.allSatisfy({ $0.allSatisfy { $0.pending == 0 } }) else {
            throw DeviceError.unavailable("cannot load an xclbin on \(info.name) while runs are in flight")
        }
        // Loading replaces the program: drop every handle of the old one first.
        runs = [:]
        failures = [:]
        buffers = [:]
        units = [:]
        self.xclbin = nil
        var uuid = [UInt8](repeating: 0, count: 16)
        try check(
            "load \(image.path ?? xclbin.name)",
            image.bytes.withUnsafeBytes { cxrt_device_load_xclbin(handle.pointer, $0.baseAddress, $0.count, &uuid) })
        var loaded = xclbin
        loaded.uuid = XclbinUUID(bytes: uuid)
        argumentIndices = Dictionary(
            container.kernels.map { ($0.name, $0.argumentIndices) }, uniquingKeysWith: { first, _ in first })
        units = Dictionary(
            loaded.kernels.map { kernel in (kernel.name, kernel.computeUnits.map { ComputeUnitState(name: $0.name) }) },
            uniquingKeysWith: { first, _ in first })
        bankUsage = Array(repeating: 0, count: loaded.memoryBanks.count)
        // Room for every run in flight to be waited for at once (two per compute unit).
        let unitCount = loaded.kernels.reduce(0) { $0 + $1.computeUnits.count }
        waiters = BlockingThreadPool(name: "xrt-wait", threads: max(2, min(64, 2 * unitCount)))
        self.xclbin = loaded
        return loaded.uuid
    }

    public func openKernel(_ name: String) throws -> Kernel {
        guard let xclbin else { throw DeviceError.noXclbinLoaded(device: info.name) }
        let kernel = try xclbin.kernel(named: name)
        // Open each compute unit in XRT now, so that XRT's view of the kernel (its
        // arguments and memory groups) is checked against the description once.
        for index in kernel.computeUnits { _ = try computeUnitKernel(kernel.name, index) }
        return kernel
    }

    /// The XRT kernel of compute unit `index` of `kernel`, opened on first use.
    private func computeUnitKernel(_ kernel: String, _ index: Int) throws -> KernelHandle {
        guard let xclbin, let state = units[kernel]?[index],
            let descriptor = xclbin.kernels.first(where: { $0.name == kernel }),
            let indices = argumentIndices[kernel]
        else { throw DeviceError.computeUnitNotFound(kernel: kernel, instance: "\(index)") }
        if let opened = state.kernel { return opened }
        var pointer: OpaquePointer?
        let name = "\(kernel):{\(state.name)}"
        let uuid = xclbin.uuid.bytes
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
        state.kernel = opened
        return opened
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
        var pointer: OpaquePointer?
        var host: UnsafeMutableRawPointer?
        try check(
            "allocate \(size) bytes in memory group \(group)",
            cxrt_bo_alloc(handle.pointer, size, Int32(group), &pointer, &host))
        let id = takeID()
        buffers[id] = BufferHandle(
            pointer: pointer!, host: UnsafeMutableRawBufferPointer(start: host, count: size), group: group)
        bankUsage[group] += size
        return BufferObject(id: id, size: size, group: group, owner: serial)
    }

    public func freeBuffer(_ buffer: BufferObject) throws {
        let storage = try lookUp(buffer)
        guard storage.runsUsing == 0 else { throw DeviceError.bufferBusy }
        buffers[buffer.id] = nil
        bankUsage[storage.group] -= buffer.size
    }

    public func withMappedBuffer<R: Sendable>(
        _ buffer: BufferObject, _ body: @Sendable (UnsafeMutableRawBufferPointer) throws -> R
    ) throws -> R {
        try body(try lookUp(buffer).host)
    }

    public func sync(_ buffer: BufferObject, _ direction: SyncDirection, size: Int?, offset: Int) throws {
        let storage = try lookUp(buffer)
        let range = try buffer.syncRange(size: size, offset: offset)
        let count = range.count
        guard storage.runsUsing == 0 else { throw DeviceError.bufferBusy }
        guard count > 0 else { return }
        try check(
            "sync \(count) bytes \(direction == .toDevice ? "to" : "from") the device",
            cxrt_bo_sync(storage.pointer, direction == .toDevice ? 1 : 0, count, offset))
    }

    // MARK: Runs

    public func start(_ kernel: Kernel, arguments: [KernelArgument]) throws -> Run {
        guard let xclbin, kernel.xclbin == xclbin.uuid, let kernelUnits = units[kernel.name],
            let descriptor = xclbin.kernels.first(where: { $0.name == kernel.name }),
            let indices = argumentIndices[kernel.name]
        else {
            throw DeviceError.kernelNotFound(kernel.name, available: self.xclbin?.kernels.map(\.name) ?? [])
        }
        let candidates = kernel.computeUnits.filter { kernelUnits.indices.contains($0) }
        guard !candidates.isEmpty else {
            throw DeviceError.computeUnitNotFound(kernel: kernel.name, instance: "\(kernel.computeUnits)")
        }
        guard arguments.count == descriptor.arguments.count, indices.count == descriptor.arguments.count else {
            throw DeviceError.argumentCount(
                kernel: kernel.name, expected: descriptor.arguments.count, got: arguments.count)
        }
        var used: [(index: Int, storage: BufferHandle)] = []
        for (index, (argument, declared)) in zip(arguments, descriptor.arguments).enumerated() {
            switch (argument, declared.kind) {
            case (.buffer(let buffer), .global): used.append((index, try lookUp(buffer)))
            case (.scalar(let value), .scalar(let byteSize)):
                guard byteSize >= 8 || value >> (UInt64(byteSize) * 8) == 0 else {
                    throw DeviceError.argumentType(
                        kernel: kernel.name, argument: declared.name,
                        expected: "a scalar that fits in \(byteSize) bytes")
                }
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
            used.allSatisfy { descriptor.computeUnits[unit].connections[$0.index] == $0.storage.group }
        }
        guard let unitIndex = connected.min(by: { kernelUnits[$0].pending < kernelUnits[$1].pending }) else {
            let unit = descriptor.computeUnits[candidates[0]]
            let mismatch = used.first { unit.connections[$0.index] != $0.storage.group } ?? used[0]
            throw DeviceError.bufferNotConnected(
                computeUnit: unit.name, argument: descriptor.arguments[mismatch.index].name,
                bufferGroup: mismatch.storage.group, connectedGroup: unit.connections[mismatch.index] ?? -1)
        }
        let unitKernel = try computeUnitKernel(kernel.name, unitIndex)
        var pointer: OpaquePointer?
        try check("create a run of \(kernel.name)", cxrt_run_create(unitKernel.pointer, &pointer))
        let unit = kernelUnits[unitIndex]
        let record = RunHandle(pointer: pointer!, buffers: used.map(\.storage), unit: unit)
        for (index, (argument, declared)) in zip(arguments, descriptor.arguments).enumerated() {
            let xrtIndex = UInt32(indices[index])
            switch (argument, declared.kind) {
            case (.buffer, _):
                let storage = used.first { $0.index == index }!.storage
                try check(
                    "set argument \(declared.name) of \(kernel.name)",
                    cxrt_run_set_buffer(record.pointer, xrtIndex, storage.pointer))
            case (.scalar(let value), .scalar(let byteSize)):
                try check(
                    "set argument \(declared.name) of \(kernel.name)",
                    cxrt_run_set_scalar(record.pointer, xrtIndex, value, UInt32(byteSize)))
            case (.scalar, .global): break  // refused above
            }
        }
        try check("start \(kernel.name):{\(unit.name)}", cxrt_run_start(record.pointer))
        for storage in record.buffers { storage.runsUsing += 1 }
        unit.pending += 1
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
            for storage in record.buffers { storage.runsUsing -= 1 }
            record.unit.pending -= 1
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

    private func lookUp(_ buffer: BufferObject) throws -> BufferHandle {
        guard buffer.owner == serial, let storage = buffers[buffer.id], storage.host.count == buffer.size,
            storage.group == buffer.group
        else { throw DeviceError.invalidBuffer }
        return storage
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
