import FPGADevice
import Testing

/// A program with two 1 KiB banks and a 64-byte one: `vadd(in1, in2, out, size)` with
/// `vadd_1` and `vadd_3` connected to group 0 and `vadd_2` to group 1, and
/// `probe(out, tag, wide)` with `probe_1` in group 0.
private let xclbin = Xclbin(
    name: "loaded", uuid: XclbinUUID(stableName: "tests.loaded"),
    memoryBanks: [
        MemoryBank(tag: "DDR[0]", size: 1024), MemoryBank(tag: "DDR[1]", size: 1024),
        MemoryBank(tag: "PLRAM[0]", size: 64),
    ],
    kernels: [
        KernelDescriptor(
            name: "vadd",
            arguments: [.global("in1"), .global("in2"), .global("out"), .scalar("size", bytes: 4)],
            computeUnits: [0, 1, 0].enumerated().map { index, group in
                ComputeUnitDescriptor(
                    name: "vadd_\(index + 1)", baseAddress: 0x1000 * UInt64(index + 1),
                    connections: [0: group, 1: group, 2: group])
            }),
        KernelDescriptor(
            name: "probe", arguments: [.global("out"), .scalar("tag", bytes: 1), .scalar("wide", bytes: 8)],
            computeUnits: [ComputeUnitDescriptor(name: "probe_1", baseAddress: 0x8000, connections: [0: 0])]),
    ])

/// The storage a test device keeps per buffer: just a name.
private typealias Program = LoadedProgram<String>

/// A program as a device with serial 7 has it just after loading `xclbin`, and that
/// device's id counter, which moves only when an allocation succeeds.
private struct TestDevice {
    var program = Program(xclbin, deviceSerial: 7)
    var nextID: UInt64 = 1

    mutating func allocate(_ size: Int, group: Int, name: String = "buffer") throws(DeviceError) -> BufferObject {
        let id = nextID
        let buffer = try program.allocate(size: size, group: group, id: id) { _ in name }
        nextID += 1
        return buffer
    }

    mutating func vaddBuffers(group: Int) throws(DeviceError) -> [BufferObject] {
        var buffers: [BufferObject] = []
        for name in ["in1", "in2", "out"] { buffers.append(try allocate(16, group: group, name: name)) }
        return buffers
    }
}

private func vaddArguments(_ buffers: [BufferObject], size: UInt32 = 16) -> [KernelArgument] {
    buffers.map { .buffer($0) } + [.scalar(size)]
}

@Suite("LoadedProgram")
struct LoadedProgramTests {
    // MARK: Banks

    @Test("a fresh program has every bank free and no run in flight")
    func freshProgram() {
        let program = Program(xclbin, deviceSerial: 7)
        #expect(program.bankUsage == [0, 0, 0])
        #expect((0..<3).map { program.freeSpace(inGroup: $0) } == [1024, 1024, 64])
        #expect(program.freeSpace(inGroup: 3) == 0)
        #expect(!program.hasRunsInFlight)
        #expect(program.computeUnits(of: "vadd").map(\.name) == ["vadd_1", "vadd_2", "vadd_3"])
        #expect(program.computeUnits(of: "vadd").map(\.index) == [0, 1, 2])
        #expect(program.computeUnits(of: "vmul").isEmpty)
    }

    @Test("bank accounting refuses over-allocation, and freeing gives the bytes back")
    func bankAccounting() throws {
        var program = Program(xclbin, deviceSerial: 7)
        var made: [Int] = []
        var ids: UInt64 = 0
        func allocate(_ size: Int, group: Int) throws(DeviceError) -> BufferObject {
            try program.allocate(
                size: size, group: group,
                id: {
                    ids += 1
                    return ids
                }()
            ) { size in
                made.append(size)
                return "b\(size)"
            }
        }
        let first = try allocate(40, group: 2)
        #expect(first == BufferObject(id: 1, size: 40, group: 2, owner: 7))
        #expect(program.freeSpace(inGroup: 2) == 24)
        #expect(throws: DeviceError.outOfDeviceMemory(group: 2, requested: 25, available: 24)) {
            try allocate(25, group: 2)
        }
        #expect(throws: DeviceError.outOfDeviceMemory(group: 0, requested: 1025, available: 1024)) {
            try allocate(1025, group: 0)
        }
        // A refused allocation makes no storage and takes no id.
        #expect(made == [40])
        #expect(ids == 1)
        let second = try allocate(24, group: 2)
        #expect(program.freeSpace(inGroup: 2) == 0)
        #expect(throws: DeviceError.outOfDeviceMemory(group: 2, requested: 1, available: 0)) {
            try allocate(1, group: 2)
        }
        try program.free(first)
        #expect(program.freeSpace(inGroup: 2) == 40)
        #expect(program.bankUsage == [0, 0, 24])
        try program.free(second)
        #expect(program.bankUsage == [0, 0, 0])
        // Another bank's space is its own.
        _ = try allocate(1024, group: 1)
        #expect(program.freeSpace(inGroup: 0) == 1024)
        #expect(program.freeSpace(inGroup: 1) == 0)
    }

    @Test("a group the program does not have, or a size that is not positive, is refused first")
    func invalidAllocations() {
        var program = Program(xclbin, deviceSerial: 7)
        for group in [-1, 3] {
            #expect(throws: DeviceError.invalidMemoryGroup(group)) {
                try program.allocate(size: 2048, group: group, id: 1) { _ in "never" }
            }
        }
        for size in [0, -5] {
            #expect(throws: DeviceError.invalidBufferSize(size)) {
                try program.allocate(size: size, group: 0, id: 1) { _ in "never" }
            }
        }
        #expect(program.bankUsage == [0, 0, 0])
    }

    @Test("storage that cannot be made leaves the bank as it was")
    func storageFailure() {
        var program = Program(xclbin, deviceSerial: 7)
        #expect(throws: DeviceError.runtime(operation: "allocate", message: "no")) {
            try program.allocate(size: 16, group: 0, id: 1) { _ throws(DeviceError) in
                throw .runtime(operation: "allocate", message: "no")
            }
        }
        #expect(program.freeSpace(inGroup: 0) == 1024)
        #expect(throws: DeviceError.invalidBuffer) {
            try program.allocation(BufferObject(id: 1, size: 16, group: 0, owner: 7))
        }
    }

    @Test("a handle is honoured only for a live buffer of this device, as allocated")
    func handles() throws {
        var device = TestDevice()
        let buffer = try device.allocate(16, group: 0, name: "live")
        let allocation = try device.program.allocation(buffer)
        #expect(allocation.storage == "live")
        #expect(allocation.size == 16 && allocation.group == 0)
        for forged in [
            BufferObject(id: buffer.id, size: 16, group: 0, owner: 8),
            BufferObject(id: buffer.id, size: 32, group: 0, owner: 7),
            BufferObject(id: buffer.id, size: 16, group: 1, owner: 7),
            BufferObject(id: 99, size: 16, group: 0, owner: 7),
        ] {
            #expect(throws: DeviceError.invalidBuffer) { try device.program.allocation(forged) }
        }
        try device.program.free(buffer)
        #expect(throws: DeviceError.invalidBuffer) { try device.program.allocation(buffer) }
        #expect(throws: DeviceError.invalidBuffer) { try device.program.free(buffer) }
    }

    // MARK: Argument checks

    @Test("a run's arguments come back checked, in order, with each buffer's storage")
    func boundArguments() throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let binding = try device.program.bind(
            try device.program.kernel(named: "vadd"), arguments: vaddArguments(buffers, size: 9))
        #expect(binding.kernel.name == "vadd")
        #expect(binding.arguments.count == 4)
        for (index, name) in ["in1", "in2", "out"].enumerated() {
            guard case .buffer(let storage) = binding.arguments[index] else {
                Issue.record("argument \(index) is not a buffer")
                continue
            }
            #expect(storage == name)
        }
        guard case .scalar(let value, let byteSize) = binding.arguments[3] else {
            Issue.record("argument 3 is not a scalar")
            return
        }
        #expect(value == 9 && byteSize == 4)
    }

    @Test("a wrong number of arguments is refused", arguments: [0, 3, 5])
    func argumentCount(count: Int) throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let arguments = Array((vaddArguments(buffers) + [.scalar(0)]).prefix(count))
        #expect(throws: DeviceError.argumentCount(kernel: "vadd", expected: 4, got: count)) {
            try device.program.bind(try device.program.kernel(named: "vadd"), arguments: arguments)
        }
    }

    @Test("an argument of the wrong kind, or a scalar too wide, is refused")
    func argumentKinds() throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let vadd = try device.program.kernel(named: "vadd")
        #expect(throws: DeviceError.argumentType(kernel: "vadd", argument: "in2", expected: "a buffer object")) {
            try device.program.bind(
                vadd, arguments: [.buffer(buffers[0]), .scalar(1), .buffer(buffers[2]), .scalar(1)])
        }
        #expect(throws: DeviceError.argumentType(kernel: "vadd", argument: "size", expected: "a scalar")) {
            try device.program.bind(vadd, arguments: buffers.map { .buffer($0) } + [.buffer(buffers[0])])
        }
        #expect(
            throws: DeviceError.argumentType(
                kernel: "vadd", argument: "size", expected: "a scalar that fits in 4 bytes")
        ) {
            try device.program.bind(
                vadd, arguments: Array(vaddArguments(buffers).dropLast()) + [.scalar(UInt64(1) << 32)])
        }
        let probe = try device.program.kernel(named: "probe")
        #expect(
            throws: DeviceError.argumentType(
                kernel: "probe", argument: "tag", expected: "a scalar that fits in 1 bytes")
        ) {
            try device.program.bind(probe, arguments: [.buffer(buffers[0]), .scalar(256), .scalar(0)])
        }
        // Eight bytes take any value.
        _ = try device.program.bind(probe, arguments: [.buffer(buffers[0]), .scalar(255), .scalar(UInt64.max)])
    }

    @Test("a freed buffer, a kernel of another program, or a handle with no unit of the kernel is refused")
    func staleHandles() throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let vadd = try device.program.kernel(named: "vadd")
        try device.program.free(buffers[1])
        #expect(throws: DeviceError.invalidBuffer) { try device.program.bind(vadd, arguments: vaddArguments(buffers)) }

        let other = Kernel(
            name: "vadd", descriptor: vadd.descriptor, computeUnits: vadd.computeUnits,
            xclbin: XclbinUUID(stableName: "tests.other"))
        #expect(throws: DeviceError.kernelNotFound("vadd", available: ["vadd", "probe"])) {
            try device.program.bind(other, arguments: vaddArguments(buffers))
        }
        let nowhere = Kernel(name: "vadd", descriptor: vadd.descriptor, computeUnits: [3, 9], xclbin: xclbin.uuid)
        #expect(throws: DeviceError.computeUnitNotFound(kernel: "vadd", instance: "[3, 9]")) {
            try device.program.bind(nowhere, arguments: vaddArguments(buffers))
        }
    }

    // MARK: Compute unit choice

    @Test("runs go to the least busy connected unit, the first in order on a tie")
    func leastBusy() throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let vadd = try device.program.kernel(named: "vadd")
        var bindings: [Program.Binding] = []
        for _ in 0..<4 {
            let binding = try device.program.bind(vadd, arguments: vaddArguments(buffers))
            binding.begin()
            bindings.append(binding)
        }
        // vadd_2 is connected to group 1: it never takes these buffers, however idle.
        #expect(bindings.map(\.computeUnit.name) == ["vadd_1", "vadd_3", "vadd_1", "vadd_3"])
        #expect(device.program.computeUnits(of: "vadd").map(\.runsInFlight) == [2, 0, 2])
        bindings[1].end()
        #expect(try device.program.bind(vadd, arguments: vaddArguments(buffers)).computeUnit.name == "vadd_3")
        bindings[0].end()
        bindings[2].end()
        #expect(try device.program.bind(vadd, arguments: vaddArguments(buffers)).computeUnit.name == "vadd_1")
    }

    @Test("a binding not begun counts nothing in flight")
    func bindingIsNotARun() throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let vadd = try device.program.kernel(named: "vadd")
        for _ in 0..<3 {
            #expect(try device.program.bind(vadd, arguments: vaddArguments(buffers)).computeUnit.name == "vadd_1")
        }
        #expect(!device.program.hasRunsInFlight)
        #expect(try !device.program.allocation(buffers[0]).isInUse)
    }

    @Test("runs go to the unit connected to their buffers' group")
    func connectedUnit() throws {
        var device = TestDevice()
        let inGroup0 = try device.vaddBuffers(group: 0)
        let inGroup1 = try device.vaddBuffers(group: 1)
        let vadd = try device.program.kernel(named: "vadd")
        // vadd_2 is the busiest unit, and the only one connected to group 1.
        for _ in 0..<3 { try device.program.bind(vadd, arguments: vaddArguments(inGroup1)).begin() }
        #expect(device.program.computeUnits(of: "vadd").map(\.runsInFlight) == [0, 3, 0])
        #expect(try device.program.bind(vadd, arguments: vaddArguments(inGroup1)).computeUnit.name == "vadd_2")
        #expect(try device.program.bind(vadd, arguments: vaddArguments(inGroup0)).computeUnit.name == "vadd_1")
        // A handle on one unit: a connected one takes the run, another refuses it.
        let vadd3 = try device.program.kernel(named: "vadd:{vadd_3}")
        #expect(try device.program.bind(vadd3, arguments: vaddArguments(inGroup0)).computeUnit.name == "vadd_3")
        #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "vadd_3", argument: "in1", bufferGroup: 1, connectedGroup: 0)
        ) {
            try device.program.bind(vadd3, arguments: vaddArguments(inGroup1))
        }
    }

    @Test("buffers no unit is connected to all of are refused, naming the first unit's first mismatch")
    func notConnected() throws {
        var device = TestDevice()
        let inGroup0 = try device.vaddBuffers(group: 0)
        let inGroup1 = try device.vaddBuffers(group: 1)
        let vadd = try device.program.kernel(named: "vadd")
        #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "vadd_1", argument: "in2", bufferGroup: 1, connectedGroup: 0)
        ) {
            try device.program.bind(vadd, arguments: vaddArguments([inGroup0[0], inGroup1[1], inGroup0[2]]))
        }
        let small = try device.allocate(8, group: 2)
        #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "vadd_1", argument: "out", bufferGroup: 2, connectedGroup: 0)
        ) {
            try device.program.bind(vadd, arguments: vaddArguments([inGroup0[0], inGroup0[1], small]))
        }
        // A refused run leaves nothing busy.
        #expect(!device.program.hasRunsInFlight)
        try device.program.free(inGroup0[0])
    }

    // MARK: Runs in flight

    @Test("a run in flight holds its unit and buffers until it ends")
    func inFlight() throws {
        var device = TestDevice()
        let buffers = try device.vaddBuffers(group: 0)
        let spare = try device.allocate(16, group: 0)
        let binding = try device.program.bind(
            try device.program.kernel(named: "vadd"), arguments: vaddArguments(buffers))
        binding.begin()
        #expect(device.program.hasRunsInFlight)
        #expect(binding.computeUnit.runsInFlight == 1)
        for buffer in buffers {
            #expect(try device.program.allocation(buffer).isInUse)
            #expect(throws: DeviceError.bufferBusy) { try device.program.free(buffer) }
        }
        try device.program.free(spare)
        binding.end()
        #expect(!device.program.hasRunsInFlight)
        #expect(binding.computeUnit.runsInFlight == 0)
        for buffer in buffers { try device.program.free(buffer) }
        #expect(device.program.bankUsage == [0, 0, 0])
    }
}
