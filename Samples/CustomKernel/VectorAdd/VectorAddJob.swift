import FPGACluster
import FPGADevice
import FPGATransport

/// Vector addition as a cluster job: each input is a ``VectorPair``, each output its sum,
/// `lhs[i] &+ rhs[i]`, computed by `krnl_vadd` on whichever node takes it.
///
/// It runs on devices that have the `vadd` program (``Xclbin/vectorAdd(computeUnits:)``)
/// and `krnl_vadd`, through one ``VectorAddDriver`` per device, whose buffers hold
/// ``maxElements`` elements: no input may be longer.
///
/// On the wire its kind is `vadd`; its parameters are ``maxElements`` (u32); an input is
/// its element count (u32) then `lhs` then `rhs`, and an output its elements, all
/// little-endian `UInt32`s.
public struct VectorAddJob: RemoteJob {
    public typealias Input = VectorPair
    public typealias Output = [UInt32]

    /// The longest vectors an input may hold: the size of the driver's buffers.
    public var maxElements: Int

    /// The ``maxElements`` the job accepts: up to 8 Mi elements, so that an input (two
    /// vectors of 32 MiB) fits in one frame of the wire protocol's default body limit.
    public static let maxElementsRange = 1...(8 << 20)

    /// A job for vectors of up to `maxElements` elements; the value is checked when a
    /// driver is made (and when the job is encoded for a worker).
    public init(maxElements: Int) {
        self.maxElements = maxElements
    }

    // MARK: DeviceJob: what runs on a device

    /// The program a device must load: `vadd`.
    public var program: String { "vadd" }

    /// One driver per buffer size.
    public var driverKey: String { "elements\(maxElements)" }

    /// A ``VectorAddDriver`` with buffers of ``maxElements`` elements.
    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        guard Self.maxElementsRange.contains(maxElements) else {
            throw VectorAddError.invalidMaxElements(maxElements, limit: Self.maxElementsRange.upperBound)
        }
        return try await VectorAddDriver(device: device, maxElements: maxElements)
    }

    /// Both vectors' bytes, for the device's `input_bytes_total` metric.
    public func byteCount(ofInput input: VectorPair) -> Int? {
        (input.lhs.count + input.rhs.count) * VectorAddKernel.elementSize
    }

    /// The sums' bytes, for the device's `output_bytes_total` metric.
    public func byteCount(ofOutput output: [UInt32]) -> Int? { output.count * VectorAddKernel.elementSize }

    // MARK: RemoteJob: how it crosses the wire

    /// The job's name on the wire.
    public static let kind = "vadd"

    /// ``maxElements``, u32 little-endian.
    public func encodeParameters(into writer: inout WireWriter) throws {
        guard Self.maxElementsRange.contains(maxElements) else {
            throw VectorAddError.invalidMaxElements(maxElements, limit: Self.maxElementsRange.upperBound)
        }
        writer.u32(UInt32(maxElements))
    }

    /// Rebuilds the job from a RUN frame's parameters, checking ``maxElements`` as a worker
    /// must: they come from the network.
    public init(parameters reader: inout WireReader) throws {
        let maxElements = Int(try reader.u32("max elements"))
        guard Self.maxElementsRange.contains(maxElements) else {
            throw VectorAddError.invalidMaxElements(maxElements, limit: Self.maxElementsRange.upperBound)
        }
        self.init(maxElements: maxElements)
    }

    /// The element count (u32), then `lhs`, then `rhs`.
    public static func encodeInput(_ input: VectorPair) throws -> ArraySlice<UInt8> {
        let count = input.lhs.count
        guard input.rhs.count == count else { throw VectorAddError.lengthMismatch(count, input.rhs.count) }
        guard let count32 = UInt32(exactly: count) else {
            throw VectorAddError.tooManyElements(count, limit: Int(UInt32.max))
        }
        let elementBytes = count * VectorAddKernel.elementSize
        var writer = WireWriter(context: "vadd input", capacity: 4 + 2 * elementBytes)
        writer.u32(count32)
        appendElements(input.lhs, to: &writer)
        appendElements(input.rhs, to: &writer)
        return writer.bytes[...]
    }

    /// An input: checks that the payload holds exactly the elements its count announces.
    public static func decodeInput(_ payload: ArraySlice<UInt8>) throws -> VectorPair {
        var reader = WireReader(payload, context: "vadd input")
        let count = Int(try reader.u32("count"))
        let elementBytes = count * VectorAddKernel.elementSize
        guard reader.remaining == 2 * elementBytes else {
            throw VectorAddError.malformedInput(count: count, bytes: reader.remaining)
        }
        let lhs = elements(try reader.take(elementBytes, "lhs"))
        let rhs = elements(try reader.take(elementBytes, "rhs"))
        try reader.finish()
        return VectorPair(lhs: lhs, rhs: rhs)
    }

    /// The sums, as they are.
    public static func encodeOutput(_ output: [UInt32]) -> ArraySlice<UInt8> {
        var writer = WireWriter(context: "vadd output", capacity: output.count * VectorAddKernel.elementSize)
        appendElements(output, to: &writer)
        return writer.bytes[...]
    }

    /// The sums: checks that the payload is a whole number of elements.
    public static func decodeOutput(_ payload: ArraySlice<UInt8>) throws -> [UInt32] {
        guard payload.count % VectorAddKernel.elementSize == 0 else {
            throw VectorAddError.malformedOutput(bytes: payload.count)
        }
        return elements(payload)
    }

    /// Appends `values` as little-endian `UInt32`s: one copy of their bytes on a
    /// little-endian host.
    private static func appendElements(_ values: [UInt32], to writer: inout WireWriter) {
        #if _endian(little)
            values.withUnsafeBytes { writer.raw($0) }
        #else
            for value in values { writer.u32(value) }
        #endif
    }

    /// The little-endian `UInt32`s of `bytes`, whose count is a multiple of 4: one copy on a
    /// little-endian host.
    private static func elements(_ bytes: ArraySlice<UInt8>) -> [UInt32] {
        bytes.withUnsafeBytes { [UInt32](littleEndian: $0, count: bytes.count / VectorAddKernel.elementSize) }
    }
}

/// The driver runs one input of ``VectorAddJob``: it adds the pair on its device.
extension VectorAddDriver: JobDriver {
    public func run(_ input: VectorPair) async throws -> [UInt32] {
        try await add(input.lhs, input.rhs)
    }
}
