import FPGADevice
import FPGAExecution
import FPGATestSync
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// MARK: Test-only software kernels

/// `vadd(in1, in2, out, size)`: `out[i] = in1[i] &+ in2[i]` for the first `size` bytes.
struct VAddKernel: SoftwareKernel {
    var name: String { "vadd" }
    var arguments: [ArgumentDescriptor] { Self.argumentList }
    static let argumentList: [ArgumentDescriptor] = [
        .global("in1"), .global("in2"), .global("out"), .scalar("size", bytes: 4),
    ]

    func workUnits(of invocation: KernelInvocation) -> Int { Int(invocation.scalar(3)) }

    func execute(_ invocation: KernelInvocation) throws {
        let in1 = invocation.buffer(0)
        let in2 = invocation.buffer(1)
        let out = invocation.buffer(2)
        let size = Int(invocation.scalar(3))
        guard size <= min(in1.count, in2.count, out.count) else {
            throw KernelFault(Self.sizeFault(size))
        }
        for index in 0..<size { out[index] = in1[index] &+ in2[index] }
    }

    static func sizeFault(_ size: Int) -> String { "vadd: size \(size) is larger than a buffer" }
}

/// `probe(out, tag, wide)`: writes which compute unit ran it and its scalars:
/// `out[0]` = compute unit index, `out[1]` = tag (1-byte scalar), `out[2..<10]` = wide
/// (8-byte scalar, little endian), then the compute unit's instance name.
struct ProbeKernel: SoftwareKernel {
    var name: String { "probe" }
    var arguments: [ArgumentDescriptor] { [.global("out"), .scalar("tag", bytes: 1), .scalar("wide", bytes: 8)] }

    func workUnits(of invocation: KernelInvocation) -> Int { 0 }

    func execute(_ invocation: KernelInvocation) throws {
        let out = invocation.buffer(0)
        let name = Array(invocation.computeUnit.utf8)
        guard out.count >= 10 + name.count else { throw KernelFault("probe: out is too small") }
        out[0] = UInt8(invocation.computeUnitIndex)
        out[1] = UInt8(invocation.scalar(1))
        out.storeBytes(of: invocation.scalar(2).littleEndian, toByteOffset: 2, as: UInt64.self)
        for (offset, byte) in name.enumerated() { out[10 + offset] = byte }
    }
}

/// `hook(out, id)`: calls a closure the test supplies, on the compute unit's thread.
struct HookKernel: SoftwareKernel {
    typealias Body = @Sendable (_ invocation: KernelInvocation, _ id: UInt32) throws -> Void
    var name: String { "hook" }
    var arguments: [ArgumentDescriptor] { [.global("out"), .scalar("id", bytes: 4)] }
    let body: Body

    init(_ body: @escaping Body = { _, _ in }) { self.body = body }

    func workUnits(of invocation: KernelInvocation) -> Int { 0 }

    func execute(_ invocation: KernelInvocation) throws {
        try body(invocation, UInt32(invocation.scalar(1)))
    }
}

// MARK: Programs

enum TestProgram {
    static let bankSize = 1 << 20
    static let smallBankSize = 4096

    /// Group 0 and 1: 1 MiB each; group 2: 4 KiB.
    static let banks = [
        MemoryBank(tag: "DDR[0]", size: bankSize),
        MemoryBank(tag: "DDR[1]", size: bankSize),
        MemoryBank(tag: "PLRAM[0]", size: smallBankSize),
    ]

    /// A descriptor for `kernel` with one compute unit per entry of `banks`, named
    /// `<kernel>_1`, `<kernel>_2`..., each with all its pointer arguments in that bank.
    static func descriptor(for kernel: some SoftwareKernel, banks unitBanks: [Int]) -> KernelDescriptor {
        let pointers = kernel.arguments.indices.filter { kernel.arguments[$0].kind == .global }
        let units = unitBanks.enumerated().map { index, bank in
            ComputeUnitDescriptor(
                name: "\(kernel.name)_\(index + 1)", baseAddress: 0x1000 * UInt64(index + 1),
                connections: Dictionary(uniqueKeysWithValues: pointers.map { ($0, bank) }))
        }
        return KernelDescriptor(name: kernel.name, arguments: kernel.arguments, computeUnits: units)
    }

    /// The standard test program: `vadd` with three compute units in group 0, `probe`
    /// with `probe_1` in group 0 and `probe_2` in group 1, `hook` with three units in group 0.
    static func standard(name: String = "test") -> Xclbin {
        Xclbin(
            name: name, uuid: XclbinUUID(stableName: "tests.\(name)"), memoryBanks: banks,
            kernels: [
                descriptor(for: VAddKernel(), banks: [0, 0, 0]),
                descriptor(for: ProbeKernel(), banks: [0, 1]),
                descriptor(for: HookKernel(), banks: [0, 0, 0]),
            ])
    }

    /// A device with the standard kernels, the program loaded, its time measured on `clock`.
    static func device(
        name: String = "sim-test", timing: TimingModel? = nil, clock: any Clock<Duration> = ContinuousClock(),
        hook: @escaping HookKernel.Body = { _, _ in }
    ) async throws -> SimulatedDevice {
        let device = SimulatedDevice(
            name: name, kernels: [VAddKernel(), ProbeKernel(), HookKernel(hook)], timing: timing, clock: clock)
        try await device.loadXclbin(standard())
        return device
    }
}

/// A run that takes `latency` whatever it does.
func slowTiming(_ latency: Duration) -> TimingModel {
    TimingModel(latency: latency, unitsPerSecond: 1e12)
}

// MARK: Helpers

extension SimulatedDevice {
    /// Allocates a buffer and fills its host side with `bytes`, synced to the device
    /// when `sync` is true.
    func buffer(_ bytes: [UInt8], group: Int = 0, sync: Bool = true) async throws -> BufferObject {
        let buffer = try allocateBuffer(size: bytes.count, group: group)
        try await write(buffer, bytes)
        if sync { try await self.sync(buffer, .toDevice) }
        return buffer
    }

    /// Syncs a buffer from the device and returns its host side.
    func fetch(_ buffer: BufferObject) async throws -> [UInt8] {
        try await sync(buffer, .fromDevice)
        return try await read(buffer, count: buffer.size)
    }
}

/// Holds the compute units whose runs reach it until the test opens it, and tells the
/// test which units are held: how a test keeps compute units busy for exactly as long as
/// it wants, instead of a timing model slow enough only on an idle machine.
final class UnitGate: Sendable {
    /// The compute units that reached the gate, in arrival order (a unit once per run).
    let arrivals = Watched<[String]>([])
    private let gate = ThreadGate()

    /// Called on a compute unit's thread: records the arrival and blocks until the gate
    /// opens, or until a generous limit of real time passes (false then).
    func hold(_ computeUnit: String, limit: Duration = stuckWaitLimit) -> Bool {
        arrivals.update { $0.append(computeUnit) }
        return gate.wait(limit: limit)
    }

    /// Lets every held run, and every later one, through.
    func open() { gate.open() }

    /// Returns the arrivals once `count` runs have reached the gate.
    @discardableResult
    func waitForArrivals(_ count: Int) async throws -> [String] {
        try await arrivals.wait(until: { $0.count >= count }, "\(count) runs at the gate")
    }

    /// A hook kernel body that holds every run at this gate.
    var hook: HookKernel.Body {
        { [self] invocation, _ in
            guard hold(invocation.computeUnit) else {
                throw KernelFault("the test never opened the gate of \(invocation.computeUnit)")
            }
        }
    }
}

/// Records calls from compute-unit threads.
final class CallLog: Sendable {
    private struct State {
        var ids: [UInt32] = []
        var threads: [String: Set<String>] = [:]
        var current = 0
        var maximum = 0
    }
    private let state = Mutex(State())

    func enter(id: UInt32, computeUnit: String) {
        state.withLock { state in
            state.ids.append(id)
            state.threads[computeUnit, default: []].insert(currentThreadName())
            state.current += 1
            state.maximum = max(state.maximum, state.current)
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }

    var ids: [UInt32] { state.withLock { $0.ids } }
    var maximumConcurrency: Int { state.withLock { $0.maximum } }
    var threadsByComputeUnit: [String: Set<String>] { state.withLock { $0.threads } }
}

/// The calling thread's name (`/proc/thread-self/comm`).
func currentThreadName() -> String {
    let fd = open("/proc/thread-self/comm", O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return "" }
    var bytes = buffer[..<count]
    if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reference checksums, written from the specifications, independent of the sources.
enum Reference {
    static let crcTable: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    /// The CRC-32 of ISO 3309 / gzip.
    static func crc32(_ bytes: some Sequence<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        var value = ~crc
        for byte in bytes { value = crcTable[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        return ~value
    }

    /// Adler-32 of RFC 1950.
    static func adler32(_ bytes: some Sequence<UInt8>, continuing adler: UInt32 = 1) -> UInt32 {
        var a = adler & 0xFFFF
        var b = adler >> 16
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}

/// Deterministic pseudo-random bytes (SplitMix64).
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z.littleEndian) { bytes.append(contentsOf: $0.prefix(count - bytes.count)) }
    }
    return bytes
}

/// Checks the modelled duration of `run`, the only run on `clock`: it is still running a
/// nanosecond before `duration` has passed on the clock and completes a nanosecond after.
func expectRun(
    _ run: Run, on device: SimulatedDevice, lasts duration: Duration, clock: ObservedTestClock,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    try await clock.waitForSleepers(1)
    #expect(clock.deadlines == [duration], sourceLocation: sourceLocation)
    await clock.advance(by: duration - .nanoseconds(1))
    #expect(
        try await device.state(of: run) == .running, "the run ended before its modelled \(duration)",
        sourceLocation: sourceLocation)
    await clock.advance(by: .nanoseconds(2))
    try await within("the run to complete") { try await device.waitForCompletion(run) }
}
