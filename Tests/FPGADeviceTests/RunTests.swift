import FPGADevice
import FPGATestSync
import Testing

/// Three vadd buffers of `count` bytes in group 0.
private func vaddBuffers(
    _ device: SimulatedDevice, count: Int = 64
) async throws -> (in1: BufferObject, in2: BufferObject, out: BufferObject) {
    let in1 = try await device.allocateBuffer(size: count, group: 0)
    let in2 = try await device.allocateBuffer(size: count, group: 0)
    let out = try await device.allocateBuffer(size: count, group: 0)
    return (in1, in2, out)
}

private func vaddArguments(_ buffers: (in1: BufferObject, in2: BufferObject, out: BufferObject), size: Int)
    -> [KernelArgument]
{
    [.buffer(buffers.in1), .buffer(buffers.in2), .buffer(buffers.out), .scalar(UInt32(size))]
}

@Suite("SimulatedDevice: runs")
struct RunTests {
    @Test("vadd adds the synced inputs on the device")
    func vaddComputes() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let a = (0..<64).map { UInt8($0 * 3 % 256) }
        let b = (0..<64).map { UInt8(200 + $0 % 50) }
        let buffers = try await vaddBuffers(device)
        try await device.write(buffers.in1, a)
        try await device.write(buffers.in2, b)
        try await device.sync(buffers.in1, .toDevice)
        try await device.sync(buffers.in2, .toDevice)

        let run = try await device.start(kernel, arguments: vaddArguments(buffers, size: 64))
        #expect(run.kernelName == "vadd")
        #expect(try await device.wait(run, timeout: nil) == .completed)
        #expect(try await device.fetch(buffers.out) == zip(a, b).map { $0 &+ $1 })
    }

    @Test("a run sees device memory only: unsynced host writes are invisible, stale contents are used")
    func unsyncedInputIsStale() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 8)
        // in1: synced once, then overwritten on the host only.
        try await device.write(buffers.in1, [1, 2, 3, 4, 5, 6, 7, 8])
        try await device.sync(buffers.in1, .toDevice)
        try await device.write(buffers.in1, [100, 100, 100, 100, 100, 100, 100, 100])
        // in2: written on the host, never synced; its device side is still zeros.
        try await device.write(buffers.in2, [50, 50, 50, 50, 50, 50, 50, 50])

        try await device.waitForCompletion(try await device.start(kernel, arguments: vaddArguments(buffers, size: 8)))
        #expect(try await device.fetch(buffers.out) == [1, 2, 3, 4, 5, 6, 7, 8])
        // The host sides were left alone by the run.
        #expect(try await device.read(buffers.in1, count: 8) == Array(repeating: 100, count: 8))
    }

    @Test("a run's output reaches the host only after a sync from the device")
    func outputNeedsSync() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 4)
        try await device.write(buffers.in1, [1, 2, 3, 4])
        try await device.write(buffers.in2, [10, 20, 30, 40])
        try await device.sync(buffers.in1, .toDevice)
        try await device.sync(buffers.in2, .toDevice)
        try await device.write(buffers.out, [0xEE, 0xEE, 0xEE, 0xEE])

        try await device.waitForCompletion(try await device.start(kernel, arguments: vaddArguments(buffers, size: 4)))
        #expect(try await device.read(buffers.out, count: 4) == [0xEE, 0xEE, 0xEE, 0xEE], "output visible before sync")
        try await device.sync(buffers.out, .fromDevice)
        #expect(try await device.read(buffers.out, count: 4) == [11, 22, 33, 44])
    }

    @Test("a run's output stays on the device for the next run, without a round trip through the host")
    func deviceToDevice() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let first = try await vaddBuffers(device, count: 4)
        try await device.write(first.in1, [1, 1, 1, 1])
        try await device.write(first.in2, [2, 2, 2, 2])
        try await device.sync(first.in1, .toDevice)
        try await device.sync(first.in2, .toDevice)
        try await device.waitForCompletion(try await device.start(kernel, arguments: vaddArguments(first, size: 4)))
        // Second run: out = first.out + first.out.
        let out2 = try await device.allocateBuffer(size: 4, group: 0)
        try await device.waitForCompletion(
            try await device.start(kernel, arguments: vaddArguments((first.out, first.out, out2), size: 4)))
        #expect(try await device.fetch(out2) == [6, 6, 6, 6])
    }

    @Test("a failing kernel ends the run in the error state with its message")
    func failingRun() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 8)
        let run = try await device.start(kernel, arguments: vaddArguments(buffers, size: 100))
        #expect(try await device.wait(run, timeout: nil) == .error)
        // The device keeps the message until asked once.
        #expect(await device.runError(run) == VAddKernel.sizeFault(100))
        #expect(await device.runError(run) == nil)

        // The compute unit carries on.
        let next = try await device.start(kernel, arguments: vaddArguments(buffers, size: 8))
        #expect(try await device.wait(next, timeout: nil) == .completed)
    }

    @Test("runError through the Device protocol gives a failed run's message, and nil for a good run")
    func runErrorThroughProtocol() async throws {
        let device: any Device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let in1 = try await device.allocateBuffer(size: 8, group: 0)
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let bad = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in1), .buffer(out), .scalar(UInt32(100))])
        let good = try await device.start(
            kernel, arguments: [.buffer(in1), .buffer(in1), .buffer(out), .scalar(UInt32(8))])
        #expect(try await device.wait(bad, timeout: nil) == .error)
        #expect(try await device.wait(good, timeout: nil) == .completed)
        #expect(try await device.runError(bad) == VAddKernel.sizeFault(100))
        #expect(try await device.runError(good) == nil)
    }

    @Test("waitForCompletion throws runFailed with the kernel's message")
    func waitForCompletionFailure() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 8)
        let run = try await device.start(kernel, arguments: vaddArguments(buffers, size: 100))
        await #expect(throws: DeviceError.runFailed(kernel: "vadd", message: VAddKernel.sizeFault(100))) {
            try await device.waitForCompletion(run)
        }
    }

    @Test("a wrong number of arguments throws argumentCount", arguments: [0, 3, 5])
    func argumentCount(count: Int) async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        let arguments = Array(repeating: KernelArgument.buffer(buffer), count: count)
        await #expect(throws: DeviceError.argumentCount(kernel: "vadd", expected: 4, got: count)) {
            try await device.start(kernel, arguments: arguments)
        }
    }

    @Test("a scalar for a pointer argument, or a buffer for a scalar, throws argumentType")
    func argumentKinds() async throws {
        let device = try await TestProgram.device()
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 8)
        await #expect(throws: DeviceError.argumentType(kernel: "vadd", argument: "in2", expected: "a buffer object")) {
            try await device.start(
                kernel, arguments: [.buffer(buffers.in1), .scalar(0), .buffer(buffers.out), .scalar(UInt32(8))])
        }
        await #expect(throws: DeviceError.argumentType(kernel: "vadd", argument: "size", expected: "a scalar")) {
            try await device.start(
                kernel,
                arguments: [.buffer(buffers.in1), .buffer(buffers.in2), .buffer(buffers.out), .buffer(buffers.in1)])
        }
    }

    @Test("a scalar wider than its declared size throws argumentType")
    func scalarTooWide() async throws {
        let device = try await TestProgram.device()
        let vadd = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 8)
        await #expect(
            throws: DeviceError.argumentType(
                kernel: "vadd", argument: "size", expected: "a scalar that fits in 4 bytes")
        ) {
            try await device.start(
                vadd,
                arguments: [.buffer(buffers.in1), .buffer(buffers.in2), .buffer(buffers.out), .scalar(UInt64(1) << 32)])
        }
        let probe = try await device.openKernel("probe:{probe_1}")
        let out = try await device.allocateBuffer(size: 32, group: 0)
        await #expect(
            throws: DeviceError.argumentType(
                kernel: "probe", argument: "tag", expected: "a scalar that fits in 1 bytes")
        ) {
            try await device.start(probe, arguments: [.buffer(out), .scalar(256), .scalar(0)])
        }
        // The largest values that fit are accepted and arrive intact.
        let run = try await device.start(probe, arguments: [.buffer(out), .scalar(255), .scalar(UInt64.max)])
        try await device.waitForCompletion(run)
        let bytes = try await device.fetch(out)
        #expect(bytes[1] == 255)
        #expect(Array(bytes[2..<10]) == Array(repeating: 0xFF, count: 8))
        // Negative Ints are two's complement 64-bit values: too wide for 4 bytes.
        await #expect(throws: DeviceError.self) {
            try await device.start(
                vadd, arguments: [.buffer(buffers.in1), .buffer(buffers.in2), .buffer(buffers.out), .scalar(Int(-1))])
        }
    }

    @Test("a buffer in a group the compute unit's argument is not connected to throws bufferNotConnected")
    func bufferNotConnected() async throws {
        let device = try await TestProgram.device()
        let probe1 = try await device.openKernel("probe:{probe_1}")
        let inGroup1 = try await device.allocateBuffer(size: 32, group: 1)
        await #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "probe_1", argument: "out", bufferGroup: 1, connectedGroup: 0)
        ) {
            try await device.start(probe1, arguments: [.buffer(inGroup1), .scalar(7), .scalar(0)])
        }
        let vadd = try await device.openKernel("vadd:{vadd_1}")
        let buffers = try await vaddBuffers(device, count: 8)
        let inGroup2 = try await device.allocateBuffer(size: 8, group: 2)
        await #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "vadd_1", argument: "out", bufferGroup: 2, connectedGroup: 0)
        ) {
            try await device.start(
                vadd, arguments: [.buffer(buffers.in1), .buffer(buffers.in2), .buffer(inGroup2), .scalar(UInt32(8))])
        }
        // A refused start leaves no buffer marked busy.
        try await device.sync(buffers.in1, .toDevice)
        try await device.freeBuffer(buffers.in2)

        // The compute unit that is connected to group 1 takes the buffer.
        let probe2 = try await device.openKernel("probe:{probe_2}")
        let run = try await device.start(probe2, arguments: [.buffer(inGroup1), .scalar(7), .scalar(0x0102)])
        #expect(run.computeUnit == "probe_2")
        try await device.waitForCompletion(run)
        let bytes = try await device.fetch(inGroup1)
        #expect(bytes[0] == 1, "computeUnitIndex")
        #expect(bytes[1] == 7)
        #expect(Array(bytes[2..<10]) == [2, 1, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[10..<17]) == Array("probe_2".utf8))
    }

    @Test("a run is running until the clock passes its modelled latency, and completed after")
    func runEndsWithTheClock() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(name: "sim-latency", timing: slowTiming(.seconds(2)), clock: clock)
        let kernel = try await device.openKernel("hook")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let run = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1))])

        // The unit computed (the hook returns at once) and now sleeps until 2 s.
        try await expectRun(run, on: device, lasts: .seconds(2), clock: clock)
    }

    @Test("wait with a timeout returns .timeout once the clock passes the timeout, and the run carries on")
    func waitTimeout() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(name: "sim-slow", timing: slowTiming(.seconds(2)), clock: clock)
        let kernel = try await device.openKernel("hook")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let run = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1))])
        try await clock.waitForSleepers(1)

        // The timeout counts from the call to wait: 50 ms on the device's clock.
        let waiter = Task { try await device.wait(run, timeout: .milliseconds(50)) }
        try await clock.waitForSleepers(2)
        #expect(clock.deadlines == [.milliseconds(50), .seconds(2)])
        await clock.advance(by: .milliseconds(50) - .nanoseconds(1))
        #expect(clock.sleeperCount == 2, "something woke before the clock reached the timeout")
        await clock.advance(by: .nanoseconds(2))
        #expect(try await waiter.boundedValue("the timed-out wait") == .timeout)
        #expect(try await device.state(of: run) == .running)

        // waitForCompletion turns a timeout into runTimedOut.
        let second = Task { try await device.waitForCompletion(run, timeout: .milliseconds(50)) }
        try await clock.waitForSleepers(2)
        await clock.advance(by: .milliseconds(50) + .nanoseconds(1))
        await #expect(throws: DeviceError.runTimedOut(kernel: "hook")) {
            try await second.boundedValue("the second timed-out wait")
        }

        // A wait without a timeout sees the run complete when the clock passes 2 s.
        let last = Task { try await device.wait(run, timeout: nil) }
        await clock.advance(toElapsed: .seconds(2) - .nanoseconds(1))
        #expect(try await device.state(of: run) == .running)
        await clock.advance(by: .nanoseconds(2))
        #expect(try await last.boundedValue("the run to complete") == .completed)
    }

    @Test("a wait whose timeout has already passed returns .timeout at once")
    func waitZeroTimeout() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(name: "sim-zero", timing: slowTiming(.seconds(1)), clock: clock)
        let kernel = try await device.openKernel("hook")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let run = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1))])
        try await clock.waitForSleepers(1)
        #expect(try await device.wait(run, timeout: .zero) == .timeout)
        #expect(clock.sleeperCount == 1, "a zero timeout left a timer behind")
        await clock.advance(by: .seconds(1) + .nanoseconds(1))
        #expect(try await within("the run to complete") { try await device.wait(run, timeout: nil) } == .completed)
    }

    @Test("a wait that is cancelled throws CancellationError, drops its timer, and the run carries on")
    func cancelledWait() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(name: "sim-cancel", timing: slowTiming(.seconds(1)), clock: clock)
        let kernel = try await device.openKernel("hook")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let run = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1))])
        try await clock.waitForSleepers(1)

        let waiter = Task { try await device.wait(run, timeout: .seconds(10)) }
        // Its timer is sleeping, so the wait is registered.
        try await clock.waitForSleepers(2)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.boundedValue("the waiter") }
        try await clock.waitForSleepers(1)
        #expect(try await device.state(of: run) == .running)

        // A wait cancelled before it starts throws too.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await device.wait(run, timeout: nil)
        }
        await #expect(throws: CancellationError.self) { try await early.boundedValue("the early waiter") }

        await clock.advance(by: .seconds(1) + .nanoseconds(1))
        #expect(try await within("the run to complete") { try await device.wait(run, timeout: nil) } == .completed)
    }

    @Test("several tasks may wait for the same run, each ending by its own timeout or with the run")
    func concurrentWaiters() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(
            name: "sim-waiters", timing: slowTiming(.milliseconds(300)), clock: clock)
        let kernel = try await device.openKernel("hook")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let run = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1))])
        try await clock.waitForSleepers(1)

        let short = Task { try await device.wait(run, timeout: .milliseconds(100)) }
        let long = (0..<3).map { _ in Task { try await device.wait(run, timeout: .seconds(10)) } }
        let untimed = Task { try await device.wait(run, timeout: nil) }
        // The unit and four timers.
        try await clock.waitForSleepers(5)

        await clock.advance(by: .milliseconds(100) + .nanoseconds(1))
        #expect(try await short.boundedValue("the short wait") == .timeout)
        try await clock.waitForSleepers(4)
        #expect(try await device.state(of: run) == .running)

        await clock.advance(toElapsed: .milliseconds(300) + .nanoseconds(1))
        for waiter in long {
            #expect(try await waiter.boundedValue("a long wait") == .completed)
        }
        #expect(try await untimed.boundedValue("the untimed wait") == .completed)
        // The unit's sleep ended, and the completed waits cancelled their timers.
        try await clock.waitForSleepers(0)
    }

    @Test("a compute unit held by the timing model starts its next run when the clock passes the first one's end")
    func timingModelHoldsTheUnit() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(name: "sim-occupy", timing: slowTiming(.seconds(1)), clock: clock)
        let kernel = try await device.openKernel("hook:{hook_1}")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        let first = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(1))])
        let second = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(2))])
        try await clock.waitForSleepers(1)
        #expect(try await device.state(of: second) == .queued)

        await clock.advance(by: .seconds(1) + .nanoseconds(1))
        #expect(try await within("the first run") { try await device.wait(first, timeout: nil) } == .completed)
        // The second run's modelled time starts when the unit takes it, once the clock has
        // passed 1 s (TestClock steps through the first run's end on its way to 1 s + 1 ns).
        try await clock.waitForSleepers(1)
        let end = try #require(clock.deadlines.first)
        #expect(end >= .seconds(2) && end <= .seconds(2) + .nanoseconds(1))
        #expect(try await device.state(of: second) == .running)
        await clock.advance(toElapsed: end - .nanoseconds(1))
        #expect(try await device.state(of: second) == .running)
        await clock.advance(by: .nanoseconds(2))
        #expect(try await within("the second run") { try await device.wait(second, timeout: nil) } == .completed)
    }

    @Test("waiting for a run the device does not know throws unknownRun")
    func unknownRun() async throws {
        let device = try await TestProgram.device()
        await #expect(throws: DeviceError.unknownRun) {
            try await device.wait(Run(id: 123_456, kernelName: "vadd", computeUnit: "vadd_1"), timeout: nil)
        }
    }

    @Test("runs on a handle covering all compute units spread over them")
    func runsSpread() async throws {
        // Runs held at a gate keep their units busy until the test opens it.
        let gate = UnitGate()
        defer { gate.open() }
        let device = try await TestProgram.device(name: "sim-spread", hook: gate.hook)
        let kernel = try await device.openKernel("hook")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        var runs: [Run] = []
        for id in 0..<3 { runs.append(try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(id))])) }
        #expect(Set(runs.map(\.computeUnit)) == ["hook_1", "hook_2", "hook_3"])
        let held = try await gate.waitForArrivals(3)
        #expect(Set(held) == ["hook_1", "hook_2", "hook_3"])

        // A fourth run queues behind one of them.
        let fourth = try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(3))])
        #expect(["hook_1", "hook_2", "hook_3"].contains(fourth.computeUnit))
        #expect(try await device.state(of: fourth) == .queued)
        gate.open()
        for run in runs + [fourth] {
            try await within("run \(run.id) to complete") { try await device.waitForCompletion(run) }
        }
        #expect(gate.arrivals.value.count == 4)
    }

    @Test("runs on a name:{instance} handle all go to that compute unit")
    func runsOnInstance() async throws {
        let gate = UnitGate()
        defer { gate.open() }
        let device = try await TestProgram.device(name: "sim-inst", hook: gate.hook)
        let kernel = try await device.openKernel("hook:{hook_3}")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        var runs: [Run] = []
        for id in 0..<3 { runs.append(try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(id))])) }
        #expect(runs.map(\.computeUnit) == ["hook_3", "hook_3", "hook_3"])
        // hook_1 and hook_2 are idle, yet the runs queue on hook_3.
        #expect(try await gate.waitForArrivals(1) == ["hook_3"])
        #expect(try await device.state(of: runs[1]) == .queued)
        gate.open()
        for run in runs {
            try await within("run \(run.id) to complete") { try await device.waitForCompletion(run) }
        }
        #expect(gate.arrivals.value == ["hook_3", "hook_3", "hook_3"])
    }

    @Test("a compute unit runs its runs one at a time, in start order, on its own thread")
    func computeUnitIsSerial() async throws {
        let log = CallLog()
        let device = try await TestProgram.device(name: "simo") { invocation, id in
            log.enter(id: id, computeUnit: invocation.computeUnit)
            var spin = 0
            for index in 0..<10_000 { spin &+= index }
            invocation.buffer(0)[0] = UInt8(truncatingIfNeeded: spin)
            log.leave()
        }
        let kernel = try await device.openKernel("hook:{hook_2}")
        let out = try await device.allocateBuffer(size: 8, group: 0)
        var runs: [Run] = []
        for id in 0..<20 {
            runs.append(try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(id))]))
        }
        for run in runs { try await device.waitForCompletion(run) }
        #expect(log.ids == Array(0..<20))
        #expect(log.maximumConcurrency == 1)
        #expect(log.threadsByComputeUnit == ["hook_2": ["simo-cu1-0"]])
    }

    @Test("different compute units run at the same time")
    func computeUnitsRunConcurrently() async throws {
        let barrier = ThreadBarrier(parties: 2)
        let device = try await TestProgram.device(name: "sim-par") { invocation, _ in
            invocation.buffer(0)[0] = barrier.arriveAndWait() ? 1 : 2
        }
        let kernel = try await device.openKernel("hook")
        let outs = [
            try await device.allocateBuffer(size: 8, group: 0), try await device.allocateBuffer(size: 8, group: 0),
        ]
        var runs: [Run] = []
        for out in outs { runs.append(try await device.start(kernel, arguments: [.buffer(out), .scalar(UInt32(0))])) }
        #expect(Set(runs.map(\.computeUnit)) == ["hook_1", "hook_2"])
        for run in runs { try await device.waitForCompletion(run) }
        for out in outs { #expect(try await device.fetch(out)[0] == 1, "the runs did not overlap") }
    }

    @Test("buffers in use by a run cannot be synced or freed, nor a program loaded")
    func busyWhileRunning() async throws {
        // The run stays in flight until the test clock passes its latency.
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(name: "sim-busy", timing: slowTiming(.seconds(1)), clock: clock)
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 8)
        let idle = try await device.allocateBuffer(size: 8, group: 0)
        let run = try await device.start(kernel, arguments: vaddArguments(buffers, size: 8))

        await #expect(throws: DeviceError.bufferBusy) { try await device.sync(buffers.in1, .toDevice) }
        await #expect(throws: DeviceError.bufferBusy) { try await device.sync(buffers.out, .fromDevice) }
        await #expect(throws: DeviceError.bufferBusy) { try await device.syncToDevice(buffers.in1, from: [1]) }
        await #expect(throws: DeviceError.bufferBusy) {
            try await device.syncToDevice(buffers.in1, count: 1, offset: 0) { _ in
                Issue.record("a fill ran on a buffer in use")
                return 0
            }
        }
        await #expect(throws: DeviceError.bufferBusy) {
            try await device.syncFromDevice(buffers.out, size: 8) { _ in () }
        }
        await #expect(throws: DeviceError.bufferBusy) { try await device.freeBuffer(buffers.out) }
        await #expect(throws: DeviceError.unavailable("cannot load an xclbin on sim-busy while runs are in flight")) {
            try await device.loadXclbin(TestProgram.standard(name: "other"))
        }
        // A buffer the run does not use is not affected, and the host side stays usable.
        try await device.sync(idle, .toDevice)
        try await device.write(buffers.in1, [1])

        // The unit took the run (its modelled end is fixed) before the clock moves.
        try await clock.waitForSleepers(1)
        await clock.advance(by: .seconds(1) + .nanoseconds(1))
        try await within("the run to complete") { try await device.waitForCompletion(run) }
        try await device.sync(buffers.in1, .toDevice)
        try await device.freeBuffer(buffers.out)
        try await device.loadXclbin(TestProgram.standard(name: "other"))
    }

    @Test("the timing model charges a run for its work units")
    func timingUsesWorkUnits() async throws {
        let clock = ObservedTestClock()
        let device = try await TestProgram.device(
            name: "sim-rate", timing: TimingModel(latency: .zero, unitsPerSecond: 1000), clock: clock)
        let kernel = try await device.openKernel("vadd")
        let buffers = try await vaddBuffers(device, count: 256)
        let run = try await device.start(kernel, arguments: vaddArguments(buffers, size: 200))
        // 200 bytes at 1000 bytes/s.
        try await expectRun(run, on: device, lasts: .milliseconds(200), clock: clock)
    }
}
