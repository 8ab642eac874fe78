import FPGADevice
import FPGAKernels
import Testing
import VectorAdd

/// A simulated device running `krnl_vadd`, with the vector-add xclbin loaded.
func vaddDevice(_ name: String, computeUnits: Int = 2) async throws -> SimulatedDevice {
    let device = SimulatedDevice(name: name, kernels: [VectorAddKernel()])
    try await device.loadXclbin(.vectorAdd(computeUnits: computeUnits))
    return device
}

func randomVector(_ count: Int, using generator: inout SplitMix64) -> [UInt32] {
    (0..<count).map { _ in UInt32.random(in: .min ... .max, using: &generator) }
}

func expectedSum(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
    zip(a, b).map { $0 &+ $1 }
}

@Suite("VectorAddDriver")
struct VectorAddDriverTests {
    @Test("opens every compute unit; capacity is one per unit")
    func capacity() async throws {
        for units in Xclbin.vectorAddComputeUnits {
            let device = try await vaddDevice("sim-vadd-cap\(units)", computeUnits: units)
            let driver = try await VectorAddDriver(device: device, maxElements: 16)
            #expect(driver.capacity == units)
            #expect(driver.computeUnits == units)
            #expect(driver.maxElements == 16)
        }
    }

    @Test("adds seeded random vectors of many lengths", arguments: [1, 2, 3, 7, 64, 1000, 4097])
    func random(count: Int) async throws {
        let device = try await vaddDevice("sim-vadd-random")
        let driver = try await VectorAddDriver(device: device, maxElements: 4097)
        var generator = SplitMix64(seed: UInt64(count))
        for _ in 0..<3 {
            let a = randomVector(count, using: &generator)
            let b = randomVector(count, using: &generator)
            #expect(try await driver.add(a, b) == expectedSum(a, b))
        }
    }

    @Test("wraps on overflow as 32-bit unsigned addition")
    func overflow() async throws {
        let device = try await vaddDevice("sim-vadd-overflow")
        let driver = try await VectorAddDriver(device: device, maxElements: 8)
        let a: [UInt32] = [.max, .max, 0x8000_0000, 1, 0, .max - 1, 0xdead_beef, 0]
        let b: [UInt32] = [1, .max, 0x8000_0000, .max, 0, 2, 0x2152_4111, 0]
        #expect(try await driver.add(a, b) == [0, .max - 1, 0, 0, 0, 0, 0, 0])
    }

    @Test("a single element")
    func single() async throws {
        let device = try await vaddDevice("sim-vadd-one")
        let driver = try await VectorAddDriver(device: device, maxElements: 1)
        #expect(try await driver.add([40], [2]) == [42])
        #expect(try await driver.add([.max], [.max]) == [.max - 1])
    }

    @Test("exactly maxElements elements, then a shorter call on the same buffers")
    func full() async throws {
        let maxElements = 1 << 16
        let device = try await vaddDevice("sim-vadd-full", computeUnits: 1)
        let driver = try await VectorAddDriver(device: device, maxElements: maxElements)
        var generator = SplitMix64(seed: 0x5eed)
        let a = randomVector(maxElements, using: &generator)
        let b = randomVector(maxElements, using: &generator)
        #expect(try await driver.add(a, b) == expectedSum(a, b))
        // A shorter vector afterwards sees none of the longer one's elements.
        #expect(try await driver.add([1, 2, 3], [10, 20, 30]) == [11, 22, 33])
    }

    @Test("empty vectors give []")
    func empty() async throws {
        let device = try await vaddDevice("sim-vadd-empty")
        let driver = try await VectorAddDriver(device: device, maxElements: 4)
        #expect(try await driver.add([], []) == [])
    }

    @Test("more concurrent calls than compute units all get their own sums")
    func concurrent() async throws {
        let device = try await vaddDevice("sim-vadd-concurrent")
        let driver = try await VectorAddDriver(device: device, maxElements: 2048)
        let calls = driver.capacity * 4 + 1
        var generator = SplitMix64(seed: 42)
        let inputs = (0..<calls).map { index in
            let count = 1 + (index * 257) % 2048
            return (randomVector(count, using: &generator), randomVector(count, using: &generator))
        }
        let results = try await withThrowingTaskGroup(of: (Int, [UInt32]).self) { group in
            for (index, (a, b)) in inputs.enumerated() {
                group.addTask { (index, try await driver.add(a, b)) }
            }
            var results = [[UInt32]](repeating: [], count: calls)
            for try await (index, sum) in group { results[index] = sum }
            return results
        }
        for (index, (a, b)) in inputs.enumerated() {
            #expect(results[index] == expectedSum(a, b), "call \(index)")
        }
    }

    @Test("a cancelled task gets CancellationError and the driver keeps all its compute units")
    func cancelled() async throws {
        let device = try await vaddDevice("sim-vadd-cancel")
        let driver = try await VectorAddDriver(device: device, maxElements: 4)
        let outcome = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await driver.add([1], [2])
        }.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        // Every compute unit is still free: capacity calls at once all complete.
        try await withThrowingTaskGroup(of: [UInt32].self) { group in
            for _ in 0..<driver.capacity { group.addTask { try await driver.add([1], [2]) } }
            for try await sum in group { #expect(sum == [3]) }
        }
    }

    @Test("operands of different lengths throw lengthMismatch")
    func mismatch() async throws {
        let device = try await vaddDevice("sim-vadd-mismatch")
        let driver = try await VectorAddDriver(device: device, maxElements: 8)
        await #expect(throws: VectorAddError.lengthMismatch(3, 2)) { try await driver.add([1, 2, 3], [1, 2]) }
        await #expect(throws: VectorAddError.lengthMismatch(0, 1)) { try await driver.add([], [1]) }
        // The driver still works afterwards.
        #expect(try await driver.add([1], [1]) == [2])
    }

    @Test("more than maxElements elements throw tooManyElements")
    func tooLong() async throws {
        let device = try await vaddDevice("sim-vadd-long")
        let driver = try await VectorAddDriver(device: device, maxElements: 4)
        let five: [UInt32] = [1, 2, 3, 4, 5]
        await #expect(throws: VectorAddError.tooManyElements(5, limit: 4)) { try await driver.add(five, five) }
        #expect(try await driver.add([1, 2, 3, 4], [1, 1, 1, 1]) == [2, 3, 4, 5])
    }

    @Test("a buffer size outside 1...elementLimit throws invalidMaxElements", arguments: [0, -1, Int(Int32.max) + 1])
    func invalidMaxElements(maxElements: Int) async throws {
        let device = try await vaddDevice("sim-vadd-invalid")
        await #expect(throws: VectorAddError.invalidMaxElements(maxElements, limit: VectorAddDriver.elementLimit)) {
            try await VectorAddDriver(device: device, maxElements: maxElements)
        }
    }

    @Test("buffers larger than a bank fail with the device's out-of-memory error")
    func outOfMemory() async throws {
        let device = try await vaddDevice("sim-vadd-oom", computeUnits: 1)
        // 8 GiB per buffer does not fit a 4 GiB bank; the device refuses before allocating.
        let maxElements = VectorAddDriver.elementLimit
        await #expect(
            throws: DeviceError.outOfDeviceMemory(group: 0, requested: maxElements * 4, available: 4 << 30)
        ) {
            try await VectorAddDriver(device: device, maxElements: maxElements)
        }
    }

    @Test("a device without an xclbin refuses the driver")
    func noXclbin() async throws {
        let device = SimulatedDevice(name: "sim-vadd-bare", kernels: [VectorAddKernel()])
        await #expect(throws: DeviceError.noXclbinLoaded(device: "sim-vadd-bare")) {
            try await VectorAddDriver(device: device, maxElements: 4)
        }
    }

    @Test("errors describe themselves on one line")
    func descriptions() {
        let errors: [VectorAddError] = [
            .lengthMismatch(3, 2), .tooManyElements(5, limit: 4), .invalidMaxElements(0, limit: 7),
            .invalidComputeUnitCount(9, valid: 1...4),
        ]
        for error in errors {
            #expect(!error.description.isEmpty)
            #expect(!error.description.contains("\n"))
        }
        #expect(
            VectorAddError.lengthMismatch(3, 2).description
                == "cannot add vectors of different lengths (3 and 2 elements)")
        #expect(
            VectorAddError.invalidComputeUnitCount(9, valid: 1...4).description
                == "invalid krnl_vadd compute unit count 9: it must be 1 to 4")
    }
}

@Suite("VectorAddKernel on a SimulatedDevice")
struct VectorAddKernelTests {
    /// Buffers of `elements` elements for each of in1, in2 and out of `krnl_vadd_1`.
    func buffers(on device: SimulatedDevice, elements: (Int, Int, Int)) async throws -> (
        Kernel, BufferObject, BufferObject, BufferObject
    ) {
        let kernel = try await device.openKernel("krnl_vadd:{krnl_vadd_1}")
        typealias Argument = VectorAddKernel.Argument
        let in1 = try await device.allocateBuffer(size: elements.0 * 4, group: kernel.group(forArgument: Argument.in1))
        let in2 = try await device.allocateBuffer(size: elements.1 * 4, group: kernel.group(forArgument: Argument.in2))
        let out = try await device.allocateBuffer(size: elements.2 * 4, group: kernel.group(forArgument: Argument.out))
        return (kernel, in1, in2, out)
    }

    @Test(
        "a size larger than a buffer ends the run in error with the kernel's message",
        arguments: [
            ((4, 8, 8), "krnl_vadd: size 8 needs 32 bytes, but in1 holds only 16"),
            ((8, 2, 8), "krnl_vadd: size 8 needs 32 bytes, but in2 holds only 8"),
            ((8, 8, 7), "krnl_vadd: size 8 needs 32 bytes, but out holds only 28"),
        ])
    func tooSmallBuffer(elements: (Int, Int, Int), message: String) async throws {
        let device = try await vaddDevice("sim-vadd-small")
        let (kernel, in1, in2, out) = try await buffers(on: device, elements: elements)
        let run = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in2), .buffer(out), .scalar(UInt32(8))])
        #expect(try await device.wait(run, timeout: nil) == .error)
        #expect(await device.runError(run) == message)
    }

    @Test("a negative size ends the run in error")
    func negativeSize() async throws {
        let device = try await vaddDevice("sim-vadd-negative")
        let (kernel, in1, in2, out) = try await buffers(on: device, elements: (4, 4, 4))
        let run = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in2), .buffer(out), .scalar(UInt32.max)])
        #expect(try await device.wait(run, timeout: nil) == .error)
        #expect(await device.runError(run) == "krnl_vadd: size -1 is negative (it is a C int)")
    }

    @Test("the failure reaches waitForCompletion as runFailed")
    func waitForCompletionFails() async throws {
        let device = try await vaddDevice("sim-vadd-fail")
        let (kernel, in1, in2, out) = try await buffers(on: device, elements: (1, 1, 1))
        let run = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in2), .buffer(out), .scalar(UInt32(2))])
        await #expect(
            throws: DeviceError.runFailed(
                kernel: "krnl_vadd", message: "krnl_vadd: size 2 needs 8 bytes, but in1 holds only 4")
        ) { try await device.waitForCompletion(run) }
    }

    @Test("buffers larger than size: only size elements are added and written")
    func partial() async throws {
        let device = try await vaddDevice("sim-vadd-partial")
        let (kernel, in1, in2, out) = try await buffers(on: device, elements: (4, 4, 4))
        let ones: [UInt8] = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]
        try await device.write(in1, ones)
        try await device.write(in2, ones)
        try await device.sync(in1, .toDevice)
        try await device.sync(in2, .toDevice)
        let run = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in2), .buffer(out), .scalar(UInt32(3))])
        try await device.waitForCompletion(run)
        try await device.sync(out, .fromDevice)
        #expect(try await device.read(out, count: 16) == [2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("size 0 completes and writes nothing")
    func zeroSize() async throws {
        let device = try await vaddDevice("sim-vadd-zero")
        let (kernel, in1, in2, out) = try await buffers(on: device, elements: (1, 1, 1))
        let run = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in2), .buffer(out), .scalar(UInt32(0))])
        #expect(try await device.wait(run, timeout: nil) == .completed)
    }

    @Test("the same buffer as in1 and out adds in place")
    func inPlace() async throws {
        let device = try await vaddDevice("sim-vadd-inplace")
        let (kernel, in1, in2, _) = try await buffers(on: device, elements: (2, 2, 1))
        try await device.write(in1, [0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0] as [UInt8])
        try await device.write(in2, [2, 0, 0, 0, 7, 0, 0, 0] as [UInt8])
        try await device.sync(in1, .toDevice)
        try await device.sync(in2, .toDevice)
        let run = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in2), .buffer(in1), .scalar(UInt32(2))])
        try await device.waitForCompletion(run)
        try await device.sync(in1, .fromDevice)
        #expect(try await device.read(in1, count: 8) == [1, 0, 0, 0, 12, 0, 0, 0])
    }

    @Test("the name and arguments are the Vitis example's")
    func signature() {
        let kernel = VectorAddKernel()
        #expect(kernel.name == "krnl_vadd")
        #expect(kernel.arguments == [.global("in1"), .global("in2"), .global("out"), .scalar("size", bytes: 4)])
    }
}

@Suite("Xclbin.vectorAdd")
struct VectorAddXclbinTests {
    @Test("validates for every supported compute unit count", arguments: Xclbin.vectorAddComputeUnits)
    func validates(units: Int) throws {
        let xclbin = try Xclbin.vectorAdd(computeUnits: units)
        try xclbin.validate()
        #expect(xclbin.name == "vadd")
        #expect(xclbin.memoryBanks.map(\.tag) == ["DDR[0]", "DDR[1]", "DDR[2]", "DDR[3]"])
        #expect(xclbin.memoryBanks.allSatisfy { $0.size == 4 << 30 })
        #expect(xclbin.kernels.count == 1)
        let kernel = try #require(xclbin.kernels.first)
        #expect(kernel.name == "krnl_vadd")
        #expect(kernel.arguments == VectorAddKernel().arguments)
        #expect(kernel.computeUnits.map(\.name) == (1...units).map { "krnl_vadd_\($0)" })
        for (index, unit) in kernel.computeUnits.enumerated() {
            #expect(unit.connections == [0: index, 1: index, 2: index])
        }
    }

    @Test("the UUID is stable and differs by compute unit count")
    func stableUUID() throws {
        #expect(try Xclbin.vectorAdd().uuid == Xclbin.vectorAdd(computeUnits: 2).uuid)
        #expect(try Xclbin.vectorAdd(computeUnits: 1).uuid != Xclbin.vectorAdd(computeUnits: 2).uuid)
        #expect(try Xclbin.vectorAdd().uuid == XclbinUUID(stableName: "fpgacluster.vadd.2"))
    }

    @Test("a compute unit count outside 1...4 throws", arguments: [0, -1, 5, 100])
    func invalidCount(units: Int) {
        #expect(throws: VectorAddError.invalidComputeUnitCount(units, valid: 1...4)) {
            try Xclbin.vectorAdd(computeUnits: units)
        }
    }

    @Test("each driver call's buffers sit in its compute unit's own bank")
    func banks() async throws {
        let device = try await vaddDevice("sim-vadd-banks", computeUnits: 4)
        for index in 0..<4 {
            let kernel = try await device.openKernel("krnl_vadd:{krnl_vadd_\(index + 1)}")
            for argument in 0..<3 {
                #expect(try kernel.group(forArgument: argument) == index)
            }
        }
    }
}
