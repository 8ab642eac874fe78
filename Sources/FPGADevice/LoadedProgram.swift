import Synchronization

/// What a device knows once it has loaded an xclbin, and the rules a card enforces on
/// it, for every ``Device`` implementation to share.
///
/// In XRT's terms, a loaded program holds:
/// - the xclbin's memory banks (`MEM_TOPOLOGY`, one memory group each), the buffer objects
///   allocated in them and the space each bank has left;
/// - its kernels, each with its compute units (`IP_LAYOUT`) and their connectivity
///   (`CONNECTIVITY`: the memory group each pointer argument of each unit may use);
/// - the runs in flight on each compute unit and on each buffer.
///
/// A device makes a new one each time it loads an xclbin (loading replaces the program:
/// the old buffers and compute units go with it) and asks it:
/// - ``allocate(size:group:id:making:)`` and ``free(_:)``: a buffer must fit in its bank's
///   free space, and freeing gives the space back;
/// - ``allocation(_:)``: whether a ``BufferObject`` names a live buffer of this program on
///   this device;
/// - ``bind(_:arguments:)``: whether a run's arguments match the kernel's declaration (their
///   number, each one's kind, each scalar's width), and which compute unit takes the run:
///   as XRT chooses, the least busy of those the kernel handle covers whose connectivity
///   takes every buffer argument's memory group.
///
/// `Storage` is what the device keeps for each buffer: host and device memory for a
/// ``SimulatedDevice``, XRT's handles for a real card. The device keeps what truly
/// differs (software kernels and their threads, or XRT's kernel and run handles) itself.
///
/// A loaded program is a value its device (an actor) owns and changes. The counts of runs
/// in flight are atomics in shared ``ComputeUnit`` and ``Allocation`` objects, so that the
/// thread on which a run ends can count it finished, and every copy sees the same counts.
public struct LoadedProgram<Storage: Sendable>: Sendable {
    /// The xclbin loaded, as the device describes it (with the UUID the device reports).
    public let xclbin: Xclbin
    /// The serial number of the device it is loaded on (``DeviceSerial``), stamped on
    /// every buffer handle as its ``BufferObject/owner``.
    public let deviceSerial: UInt64
    /// Bytes allocated in each memory bank, by memory group id.
    public private(set) var bankUsage: [Int]
    private let units: [String: [ComputeUnit]]
    private var buffers: [UInt64: Allocation] = [:]

    /// The program `xclbin` describes, loaded on the device with serial `deviceSerial`:
    /// every bank empty, no run in flight. `xclbin` must be valid (``Xclbin/validate()``).
    public init(_ xclbin: Xclbin, deviceSerial: UInt64) {
        self.xclbin = xclbin
        self.deviceSerial = deviceSerial
        bankUsage = Array(repeating: 0, count: xclbin.memoryBanks.count)
        units = Dictionary(
            xclbin.kernels.map { kernel in
                (
                    kernel.name,
                    kernel.computeUnits.enumerated().map { index, unit in
                        ComputeUnit(kernel: kernel.name, index: index, descriptor: unit)
                    }
                )
            },
            uniquingKeysWith: { first, _ in first })
    }

    // MARK: Kernels and compute units

    /// The handle for `name`, a kernel name for all its compute units or `kernel:{instance}`
    /// for one (``Xclbin/kernel(named:)``).
    public func kernel(named name: String) throws(DeviceError) -> Kernel {
        try xclbin.kernel(named: name)
    }

    /// The compute units of kernel `name`, in the xclbin's order; empty for a kernel the
    /// program does not have.
    public func computeUnits(of name: String) -> [ComputeUnit] {
        units[name] ?? []
    }

    /// Whether any run started on the program has not yet been counted finished.
    public var hasRunsInFlight: Bool {
        units.values.contains { $0.contains { $0.runsInFlight > 0 } }
    }

    // MARK: Memory banks and buffers

    /// The bytes memory group `group` has left; 0 for a group the program does not have.
    public func freeSpace(inGroup group: Int) -> Int {
        guard xclbin.memoryBanks.indices.contains(group) else { return 0 }
        return xclbin.memoryBanks[group].size - bankUsage[group]
    }

    /// Allocates a buffer object of `size` bytes in memory group `group`, as
    /// `xrt::bo(device, size, group)`: checks the group exists, the size is positive and
    /// the bank has room, then asks `make` for the device's storage, and only when it
    /// succeeds takes the handle's `id` and counts the bytes against the bank.
    public mutating func allocate(
        size: Int, group: Int, id: @autoclosure () -> UInt64,
        making make: (_ size: Int) throws(DeviceError) -> Storage
    ) throws(DeviceError) -> BufferObject {
        guard xclbin.memoryBanks.indices.contains(group) else { throw .invalidMemoryGroup(group) }
        guard size > 0 else { throw .invalidBufferSize(size) }
        let available = freeSpace(inGroup: group)
        guard size <= available else {
            throw .outOfDeviceMemory(group: group, requested: size, available: available)
        }
        let storage = try make(size)
        let buffer = BufferObject(id: id(), size: size, group: group, owner: deviceSerial)
        buffers[buffer.id] = Allocation(storage: storage, size: size, group: group)
        bankUsage[group] += size
        return buffer
    }

    /// The live buffer `buffer` names; throws ``DeviceError/invalidBuffer`` for a handle
    /// that was freed, belongs to another device or program, or was forged.
    public func allocation(_ buffer: BufferObject) throws(DeviceError) -> Allocation {
        guard buffer.owner == deviceSerial, let allocation = buffers[buffer.id], allocation.size == buffer.size,
            allocation.group == buffer.group
        else { throw .invalidBuffer }
        return allocation
    }

    /// Frees a buffer and gives its bytes back to its bank; throws
    /// ``DeviceError/bufferBusy`` while a run uses it.
    public mutating func free(_ buffer: BufferObject) throws(DeviceError) {
        let allocation = try self.allocation(buffer)
        guard !allocation.isInUse else { throw .bufferBusy }
        buffers[buffer.id] = nil
        bankUsage[allocation.group] -= allocation.size
    }

    // MARK: Runs

    /// Checks a run of `kernel` with `arguments` against the loaded xclbin and chooses its
    /// compute unit, without starting anything.
    ///
    /// Nothing in the handle is trusted but its name, its xclbin and its choice of compute
    /// units: the declaration comes from the loaded xclbin. The checks, in order: the
    /// kernel belongs to this program (``DeviceError/kernelNotFound(_:available:)``), the
    /// handle covers at least one of its compute units
    /// (``DeviceError/computeUnitNotFound(kernel:instance:)``), there is one argument per
    /// declared argument (``DeviceError/argumentCount(kernel:expected:got:)``), and each
    /// argument in turn is a live buffer for a pointer argument or a scalar that fits for
    /// a scalar one (``DeviceError/argumentType(kernel:argument:expected:)``). Then, as XRT
    /// does, the run goes only to a compute unit connected to every buffer's memory group
    /// (``DeviceError/bufferNotConnected(computeUnit:argument:bufferGroup:connectedGroup:)``
    /// when none is, naming the first mismatch on the handle's first unit); among those,
    /// to the one with the fewest runs in flight, the first in the handle's order on a tie.
    public func bind(_ kernel: Kernel, arguments: [KernelArgument]) throws(DeviceError) -> Binding {
        guard kernel.xclbin == xclbin.uuid, let kernelUnits = units[kernel.name],
            let descriptor = xclbin.kernels.first(where: { $0.name == kernel.name })
        else { throw .kernelNotFound(kernel.name, available: xclbin.kernels.map(\.name)) }
        let candidates = kernel.computeUnits.filter { kernelUnits.indices.contains($0) }
        guard !candidates.isEmpty else {
            throw .computeUnitNotFound(kernel: kernel.name, instance: "\(kernel.computeUnits)")
        }
        guard arguments.count == descriptor.arguments.count else {
            throw .argumentCount(kernel: kernel.name, expected: descriptor.arguments.count, got: arguments.count)
        }
        var values: [Argument] = []
        var used: [(index: Int, allocation: Allocation)] = []
        for (index, (argument, declared)) in zip(arguments, descriptor.arguments).enumerated() {
            switch (argument, declared.kind) {
            case (.buffer(let buffer), .global):
                let allocation = try self.allocation(buffer)
                values.append(.buffer(allocation.storage))
                used.append((index, allocation))
            case (.scalar(let value), .scalar(let byteSize)):
                guard byteSize >= 8 || value >> (UInt64(byteSize) * 8) == 0 else {
                    throw .argumentType(
                        kernel: kernel.name, argument: declared.name,
                        expected: "a scalar that fits in \(byteSize) bytes")
                }
                values.append(.scalar(value, byteSize: byteSize))
            case (_, .global):
                throw .argumentType(kernel: kernel.name, argument: declared.name, expected: "a buffer object")
            case (_, .scalar):
                throw .argumentType(kernel: kernel.name, argument: declared.name, expected: "a scalar")
            }
        }
        let connected = candidates.filter { unit in
            used.allSatisfy { kernelUnits[unit].isConnected(argument: $0.index, to: $0.allocation.group) }
        }
        guard let chosen = connected.min(by: { kernelUnits[$0].runsInFlight < kernelUnits[$1].runsInFlight })
        else {
            let unit = descriptor.computeUnits[candidates[0]]
            let mismatch = used.first { unit.connections[$0.index] != $0.allocation.group } ?? used[0]
            throw .bufferNotConnected(
                computeUnit: unit.name, argument: descriptor.arguments[mismatch.index].name,
                bufferGroup: mismatch.allocation.group, connectedGroup: unit.connections[mismatch.index] ?? -1)
        }
        return Binding(
            kernel: descriptor, computeUnit: kernelUnits[chosen], arguments: values,
            buffers: used.map(\.allocation))
    }
}

extension LoadedProgram {
    /// One compute unit of a kernel (an `IP_LAYOUT` entry and its `CONNECTIVITY`), and
    /// the runs in flight on it.
    public final class ComputeUnit: Sendable {
        /// The name of its kernel.
        public let kernel: String
        /// Its index among its kernel's compute units.
        public let index: Int
        /// What the xclbin declares about it: its instance name and connectivity.
        public let descriptor: ComputeUnitDescriptor
        fileprivate let runs = RunCount()

        init(kernel: String, index: Int, descriptor: ComputeUnitDescriptor) {
            self.kernel = kernel
            self.index = index
            self.descriptor = descriptor
        }

        /// The instance name, such as `xilGzipCompBlock_1`.
        public var name: String { descriptor.name }

        /// Runs started on it and not yet counted finished.
        public var runsInFlight: Int { runs.value }

        /// Whether pointer argument `argument` of this unit is connected to memory group
        /// `group`.
        public func isConnected(argument: Int, to group: Int) -> Bool {
            descriptor.connections[argument] == group
        }
    }

    /// A buffer object allocated in one of the program's banks: the device's storage for
    /// it, where it is, and the runs in flight that use it.
    public final class Allocation: Sendable {
        /// What the device keeps for the buffer.
        public let storage: Storage
        /// Its size in bytes.
        public let size: Int
        /// The memory group it was allocated in.
        public let group: Int
        fileprivate let runs = RunCount()

        init(storage: Storage, size: Int, group: Int) {
            self.storage = storage
            self.size = size
            self.group = group
        }

        /// Whether a run in flight uses it: a sync or free must wait.
        public var isInUse: Bool { runs.value > 0 }
    }

    /// One checked argument of a run.
    public enum Argument: Sendable {
        /// A live buffer's storage, for a pointer argument.
        case buffer(Storage)
        /// A scalar that fits in its declared `byteSize`.
        case scalar(UInt64, byteSize: Int)
    }

    /// A run checked and placed by ``LoadedProgram/bind(_:arguments:)``, not yet counted
    /// in flight.
    ///
    /// The device calls ``begin()`` once the run has started (the unit and the buffers are
    /// then busy: a sync, free or load waits) and ``end()`` exactly once when it has ended,
    /// on whatever thread sees it end.
    public struct Binding: Sendable {
        /// The kernel's declaration in the loaded xclbin.
        public let kernel: KernelDescriptor
        /// The compute unit the run goes to.
        public let computeUnit: ComputeUnit
        /// The checked arguments, one per declared argument, in order.
        public let arguments: [Argument]
        /// The buffers the run uses.
        private let buffers: [Allocation]

        fileprivate init(
            kernel: KernelDescriptor, computeUnit: ComputeUnit, arguments: [Argument], buffers: [Allocation]
        ) {
            self.kernel = kernel
            self.computeUnit = computeUnit
            self.arguments = arguments
            self.buffers = buffers
        }

        /// Counts the run in flight on its compute unit and buffers.
        public func begin() {
            for buffer in buffers { buffer.runs.add(1) }
            computeUnit.runs.add(1)
        }

        /// Counts the run finished: its compute unit and buffers are free of it.
        public func end() {
            for buffer in buffers { buffer.runs.add(-1) }
            computeUnit.runs.add(-1)
        }
    }
}

/// How many runs in flight hold a compute unit or a buffer: an atomic, so that the thread
/// on which a run ends can count it finished while the device reads the count.
private final class RunCount: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .acquiring) }

    func add(_ delta: Int) { count.add(delta, ordering: .acquiringAndReleasing) }
}
