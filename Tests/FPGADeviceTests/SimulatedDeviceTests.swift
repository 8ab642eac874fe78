import FPGADevice
import Testing

@Suite("SimulatedDevice: programs and kernels")
struct SimulatedDeviceProgramTests {
    @Test("a new device has no program")
    func freshDevice() async throws {
        let device = SimulatedDevice(name: "sim-fresh", kernels: [VAddKernel()])
        #expect(device.info == DeviceInfo(name: "sim-fresh", kind: .simulated))
        #expect(device.info.description == "sim-fresh")
        #expect(device.timing == nil)
        #expect(await device.xclbin == nil)
        await #expect(throws: DeviceError.noXclbinLoaded(device: "sim-fresh")) {
            try await device.openKernel("vadd")
        }
        await #expect(throws: DeviceError.noXclbinLoaded(device: "sim-fresh")) {
            try await device.allocateBuffer(size: 16, group: 0)
        }
    }

    @Test("loading an xclbin returns its UUID and makes it current")
    func loadXclbin() async throws {
        let device = SimulatedDevice(name: "sim-load", kernels: [VAddKernel(), ProbeKernel(), HookKernel()])
        let program = TestProgram.standard()
        let uuid = try await device.loadXclbin(program)
        #expect(uuid == program.uuid)
        #expect(await device.xclbin == program)
    }

    @Test("opening a kernel by name covers all its compute units")
    func openByName() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        #expect(kernel.name == "vadd")
        #expect(kernel.computeUnits == [0, 1, 2])
        #expect(kernel.computeUnitNames == ["vadd:{vadd_1}", "vadd:{vadd_2}", "vadd:{vadd_3}"])
        #expect(kernel.descriptor == TestProgram.standard().kernels[0])
        #expect(kernel.xclbin == TestProgram.standard().uuid)
    }

    @Test("opening a kernel as name:{instance} selects one compute unit")
    func openByInstance() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd:{vadd_2}")
        #expect(kernel.name == "vadd")
        #expect(kernel.computeUnits == [1])
        #expect(kernel.computeUnitNames == ["vadd:{vadd_2}"])

        let probe = try await device.openKernel("probe:{probe_2}")
        #expect(probe.computeUnits == [1])
        #expect(try probe.group(forArgument: 0) == 1)
    }

    @Test("an unknown kernel name throws kernelNotFound with the available names")
    func unknownKernel() async throws {
        let device = try await TestProgram.device()
        await #expect(throws: DeviceError.kernelNotFound("vmul", available: ["vadd", "probe", "hook"])) {
            try await device.openKernel("vmul")
        }
        await #expect(throws: DeviceError.kernelNotFound("vmul", available: ["vadd", "probe", "hook"])) {
            try await device.openKernel("vmul:{vmul_1}")
        }
    }

    @Test("an unknown instance throws computeUnitNotFound")
    func unknownInstance() async throws {
        let device = try await TestProgram.device()
        await #expect(throws: DeviceError.computeUnitNotFound(kernel: "vadd", instance: "vadd_9")) {
            try await device.openKernel("vadd:{vadd_9}")
        }
        // An instance of another kernel is not an instance of this one.
        await #expect(throws: DeviceError.computeUnitNotFound(kernel: "vadd", instance: "probe_1")) {
            try await device.openKernel("vadd:{probe_1}")
        }
    }

    @Test("a malformed instance suffix is rejected", arguments: ["vadd:vadd_1", "vadd:{}", "vadd:{vadd_1", "vadd:"])
    func malformedInstance(name: String) async throws {
        let device = try await TestProgram.device()
        await #expect(throws: DeviceError.kernelNotFound(name, available: ["vadd", "probe", "hook"])) {
            try await device.openKernel(name)
        }
    }

    @Test("a kernel the xclbin declares but the device cannot run throws kernelNotImplemented")
    func kernelNotImplemented() async throws {
        let device = SimulatedDevice(name: "sim-ghost", kernels: [VAddKernel()])
        let ghost = KernelDescriptor(
            name: "ghost", arguments: [.global("data")],
            computeUnits: [ComputeUnitDescriptor(name: "ghost_1", baseAddress: 0, connections: [0: 0])])
        let program = Xclbin(
            name: "ghost", uuid: XclbinUUID(stableName: "ghost"), memoryBanks: TestProgram.banks,
            kernels: [TestProgram.descriptor(for: VAddKernel(), banks: [0]), ghost])
        await #expect(throws: DeviceError.kernelNotImplemented("ghost")) {
            try await device.loadXclbin(program)
        }
        #expect(await device.xclbin == nil)
    }

    @Test(
        "an xclbin whose argument list differs from the implementation's is invalid",
        arguments: [
            // One argument missing.
            [ArgumentDescriptor.global("in1"), .global("in2"), .global("out")],
            // Renamed.
            [.global("a"), .global("b"), .global("out"), .scalar("size", bytes: 4)],
            // Scalar of another width.
            [.global("in1"), .global("in2"), .global("out"), .scalar("size", bytes: 8)],
            // Pointer where the implementation has a scalar.
            [.global("in1"), .global("in2"), .global("out"), .global("size")],
        ])
    func argumentMismatch(arguments: [ArgumentDescriptor]) async throws {
        let device = SimulatedDevice(name: "sim-mismatch", kernels: [VAddKernel()])
        let pointers = arguments.indices.filter { arguments[$0].kind == .global }
        let unit = ComputeUnitDescriptor(
            name: "vadd_1", baseAddress: 0, connections: Dictionary(uniqueKeysWithValues: pointers.map { ($0, 0) }))
        let program = Xclbin(
            name: "mismatch", uuid: XclbinUUID(stableName: "mismatch"), memoryBanks: TestProgram.banks,
            kernels: [KernelDescriptor(name: "vadd", arguments: arguments, computeUnits: [unit])])
        let error = await #expect(throws: DeviceError.self) { try await device.loadXclbin(program) }
        guard case .invalidXclbin(let reason)? = error else {
            Issue.record("expected invalidXclbin, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("vadd"))
        #expect(await device.xclbin == nil)
    }

    @Test("a failed load leaves the previous program, its kernels and buffers usable")
    func failedLoadKeepsProgram() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.buffer([1, 2, 3, 4])
        let broken = Xclbin(
            name: "empty", uuid: XclbinUUID(stableName: "empty"), memoryBanks: TestProgram.banks, kernels: [])
        await #expect(throws: DeviceError.invalidXclbin("empty: declares no kernels")) {
            try await device.loadXclbin(broken)
        }
        #expect(await device.xclbin == TestProgram.standard())
        #expect(try await device.fetch(buffer) == [1, 2, 3, 4])
        _ = try await device.openKernel("vadd")
    }

    @Test("group(forArgument:) gives the memory group of pointer arguments only")
    func groupForArgument() async throws {
        let device = try await TestProgram.device()
        let vadd = try await device.openKernel("vadd")
        #expect(try vadd.group(forArgument: 0) == 0)
        #expect(try vadd.group(forArgument: 2) == 0)
        #expect(throws: DeviceError.argumentType(kernel: "vadd", argument: "size", expected: "a pointer argument")) {
            try vadd.group(forArgument: 3)
        }
        #expect(throws: DeviceError.argumentCount(kernel: "vadd", expected: 4, got: 5)) {
            try vadd.group(forArgument: 4)
        }
        let probe1 = try await device.openKernel("probe:{probe_1}")
        #expect(try probe1.group(forArgument: 0) == 0)
    }

    @Test("loading a new xclbin invalidates old buffers and kernel handles")
    func reloadInvalidates() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.buffer([9, 9, 9])
        let oldKernel = try await device.openKernel("probe")
        let other = TestProgram.standard(name: "other")
        try await device.loadXclbin(other)
        #expect(await device.xclbin == other)

        await #expect(throws: DeviceError.invalidBuffer) { try await device.read(buffer, count: 3) }
        await #expect(throws: DeviceError.invalidBuffer) { try await device.sync(buffer, .toDevice) }
        await #expect(throws: DeviceError.invalidBuffer) { try await device.freeBuffer(buffer) }
        let out = try await device.allocateBuffer(size: 64, group: 0)
        await #expect(throws: DeviceError.kernelNotFound("probe", available: ["vadd", "probe", "hook"])) {
            try await device.start(oldKernel, arguments: [.buffer(out), .scalar(UInt32(0)), .scalar(0)])
        }
        // A handle opened on the new program works.
        let kernel = try await device.openKernel("probe")
        let run = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1)), .scalar(0)])
        #expect(try await device.wait(run, timeout: nil) == .completed)
    }

    @Test("loading a new xclbin gives the memory banks back")
    func reloadFreesBanks() async throws {
        let device = try await TestProgram.device()
        _ = try await device.allocateBuffer(size: TestProgram.smallBankSize, group: 2)
        await #expect(throws: DeviceError.outOfDeviceMemory(group: 2, requested: 1, available: 0)) {
            try await device.allocateBuffer(size: 1, group: 2)
        }
        try await device.loadXclbin(TestProgram.standard())
        _ = try await device.allocateBuffer(size: TestProgram.smallBankSize, group: 2)
    }
}

@Suite("Xclbin")
struct XclbinTests {
    @Test("validate accepts the test program")
    func validProgram() throws {
        try TestProgram.standard().validate()
    }

    @Test("validate rejects an xclbin without kernels")
    func noKernels() {
        let program = Xclbin(name: "p", uuid: XclbinUUID(stableName: "p"), memoryBanks: TestProgram.banks, kernels: [])
        #expect(throws: DeviceError.invalidXclbin("p: declares no kernels")) { try program.validate() }
    }

    @Test("validate rejects a kernel without compute units")
    func noComputeUnits() {
        let kernel = KernelDescriptor(name: "vadd", arguments: VAddKernel.argumentList, computeUnits: [])
        let program = Xclbin(
            name: "p", uuid: XclbinUUID(stableName: "p"), memoryBanks: TestProgram.banks, kernels: [kernel])
        #expect(throws: DeviceError.invalidXclbin("p: kernel vadd has no compute units")) { try program.validate() }
    }

    @Test("validate rejects a pointer argument without a memory connection")
    func unconnectedArgument() async {
        let unit = ComputeUnitDescriptor(name: "vadd_1", baseAddress: 0, connections: [0: 0, 2: 0])
        let kernel = KernelDescriptor(name: "vadd", arguments: VAddKernel.argumentList, computeUnits: [unit])
        let program = Xclbin(
            name: "p", uuid: XclbinUUID(stableName: "p"), memoryBanks: TestProgram.banks, kernels: [kernel])
        #expect(throws: DeviceError.invalidXclbin("p: vadd_1 argument in2 is not connected to memory")) {
            try program.validate()
        }
        let device = SimulatedDevice(name: "sim-unconnected", kernels: [VAddKernel()])
        await #expect(throws: DeviceError.self) { try await device.loadXclbin(program) }
    }

    @Test("validate rejects a connection to a memory bank that does not exist")
    func missingBank() {
        let unit = ComputeUnitDescriptor(name: "vadd_1", baseAddress: 0, connections: [0: 0, 1: 0, 2: 3])
        let kernel = KernelDescriptor(name: "vadd", arguments: VAddKernel.argumentList, computeUnits: [unit])
        let program = Xclbin(
            name: "p", uuid: XclbinUUID(stableName: "p"), memoryBanks: TestProgram.banks, kernels: [kernel])
        #expect(throws: DeviceError.invalidXclbin("p: vadd_1 argument out uses memory group 3, which does not exist")) {
            try program.validate()
        }
    }

    @Test("a UUID from a name is stable, 16 bytes, and differs between names")
    func stableUUID() {
        let a = XclbinUUID(stableName: "gzip")
        #expect(a.bytes.count == 16)
        #expect(a == XclbinUUID(stableName: "gzip"))
        #expect(a != XclbinUUID(stableName: "gzip2"))
        #expect(a != XclbinUUID(stableName: ""))
    }

    @Test("a UUID prints in the 8-4-4-4-12 form")
    func uuidDescription() {
        let uuid = XclbinUUID(bytes: Array(0..<16).map { UInt8($0) }.map { $0 == 15 ? 0xFF : $0 })
        #expect(uuid.description == "00010203-0405-0607-0809-0a0b0c0d0eff")
    }
}

@Suite("TimingModel")
struct TimingModelTests {
    @Test("a run lasts the latency plus the work at the model's rate")
    func duration() {
        let model = TimingModel(latency: .milliseconds(2), unitsPerSecond: 1000)
        #expect(model.duration(forUnits: 0) == .milliseconds(2))
        #expect(model.duration(forUnits: 500) == .milliseconds(502))
        #expect(model.duration(forUnits: 1) == .milliseconds(3))
        let fast = TimingModel(latency: .zero, unitsPerSecond: 1e6)
        #expect(fast.duration(forUnits: 1) == .microseconds(1))
        #expect(fast.duration(forUnits: 3_000_000) == .seconds(3))
    }

    @Test("the U50 gzip model is a third of 348 MB/s per compute unit, 50 µs per run")
    func alveo() {
        let model = TimingModel.alveoU50Gzip
        #expect(model.latency == .microseconds(50))
        #expect(model.unitsPerSecond == 116e6)
        // 116 MB take one second.
        #expect(model.duration(forUnits: 116_000_000) == .seconds(1) + .microseconds(50))
    }
}
