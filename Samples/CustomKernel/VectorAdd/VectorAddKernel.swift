import FPGADevice

/// The software twin of the Vitis example kernel `krnl_vadd`:
///
/// ```c
/// void krnl_vadd(const unsigned int* in1, const unsigned int* in2, unsigned int* out, int size);
/// ```
///
/// It computes `out[i] = in1[i] + in2[i]` for `i` in `0..<size`, on 32-bit unsigned
/// little-endian elements, wrapping on overflow as C's `unsigned int` does. A
/// ``SimulatedDevice`` binds it to every compute unit of a kernel named `krnl_vadd`; it
/// is also fast enough to serve as the CPU fallback of the same computation.
///
/// It never traps on bad arguments: a negative `size`, or a `size` larger than any of the
/// three buffers holds, throws a ``KernelFault`` and the run ends in ``RunState/error``
/// with the fault's message.
public struct VectorAddKernel: SoftwareKernel {
    /// The kernel name the xclbin uses: `krnl_vadd`.
    public static let kernelName = "krnl_vadd"

    /// The bytes of one element (`unsigned int`).
    public static let elementSize = MemoryLayout<UInt32>.size

    /// Argument indices, in declaration order.
    public enum Argument {
        /// `in1`: the first addend, `size` elements (pointer).
        public static let in1 = 0
        /// `in2`: the second addend, `size` elements (pointer).
        public static let in2 = 1
        /// `out`: the sums, `size` elements (pointer).
        public static let out = 2
        /// `size`: the element count (4-byte scalar, a C `int`).
        public static let size = 3
    }

    /// The arguments exactly as the Vitis example declares them:
    /// `in1`, `in2`, `out` (global pointers) and `size` (a 4-byte scalar).
    public static let argumentList: [ArgumentDescriptor] = [
        .global("in1"), .global("in2"), .global("out"), .scalar("size", bytes: 4),
    ]

    /// The kernel name, ``kernelName``.
    public var name: String { Self.kernelName }

    /// The arguments, ``argumentList``.
    public var arguments: [ArgumentDescriptor] { Self.argumentList }

    /// Creates the kernel; it has no state.
    public init() {}

    /// The bytes a run moves through memory: `12 * size` (two elements read and one
    /// written per index), 0 for a negative `size`.
    public func workUnits(of invocation: KernelInvocation) -> Int {
        guard let size = Self.elementCount(invocation.scalar(Argument.size)) else { return 0 }
        return size * 3 * Self.elementSize
    }

    /// Adds `size` elements of `in1` and `in2` into `out`; throws a ``KernelFault`` when
    /// `size` is negative or a buffer holds fewer than `size` elements.
    public func execute(_ invocation: KernelInvocation) throws {
        let raw = invocation.scalar(Argument.size)
        guard let size = Self.elementCount(raw) else {
            throw KernelFault(
                "\(Self.kernelName): size \(Int32(truncatingIfNeeded: raw)) is negative (it is a C int)")
        }
        let in1 = invocation.buffer(Argument.in1)
        let in2 = invocation.buffer(Argument.in2)
        let out = invocation.buffer(Argument.out)
        let bytes = size * Self.elementSize
        for (name, buffer) in [("in1", in1), ("in2", in2), ("out", out)] where buffer.count < bytes {
            throw KernelFault(
                "\(Self.kernelName): size \(size) needs \(bytes) bytes, but \(name) holds only \(buffer.count)")
        }
        guard size > 0, let a = in1.baseAddress, let b = in2.baseAddress, let sum = out.baseAddress else { return }
        Self.add(UnsafeRawPointer(a), UnsafeRawPointer(b), into: sum, count: size)
    }

    /// The element count a `size` argument stands for: its low 32 bits read as a C `int`,
    /// nil when negative.
    private static func elementCount(_ raw: UInt64) -> Int? {
        let size = Int32(truncatingIfNeeded: raw)
        return size >= 0 ? Int(size) : nil
    }

    /// `sum[i] = a[i] &+ b[i]` on `count` little-endian `UInt32`s at any alignment. `sum`
    /// may be `a` or `b` (the same buffer object passed twice); each element is read before
    /// it is written. Unaligned loads and stores compile to plain moves on x86-64 and
    /// arm64, and the loop vectorizes.
    private static func add(
        _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, into sum: UnsafeMutableRawPointer, count: Int
    ) {
        var offset = 0
        let end = count * elementSize
        while offset < end {
            let x = UInt32(littleEndian: a.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let y = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            sum.storeBytes(of: (x &+ y).littleEndian, toByteOffset: offset, as: UInt32.self)
            offset &+= elementSize
        }
    }
}
