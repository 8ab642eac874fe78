import FPGADevice

/// The software twin of `xilGzipCompBlock` from the Vitis data compression library.
///
/// Arguments, as the bitstream declares them:
/// `in` (bytes to compress), `out` (compressed bytes), `compressd_size` (u32 written:
/// bytes in `out`), `checksumData` (u32 in/out: the seed on input, the checksum on
/// output), `input_size` (u32 scalar), `checksumType` (scalar: 1 = CRC-32, 0 = Adler-32).
///
/// The output contract is the kernel's: raw deflate blocks without a final block, ending
/// on a byte boundary; the host appends the final block and the gzip trailer. The CRC
/// seed is the CRC register before the data (`0xFFFFFFFF` to start, the complement of
/// the previous CRC to chain); the value written back is the finished CRC.
public struct GzipCompBlockKernel: SoftwareKernel {
    public static let kernelName = "xilGzipCompBlock"

    /// Argument indices.
    public enum Argument {
        public static let input = 0
        public static let output = 1
        public static let compressedSize = 2
        public static let checksum = 3
        public static let inputSize = 4
        public static let checksumType = 5
    }

    public var name: String { Self.kernelName }
    public var arguments: [ArgumentDescriptor] { Self.argumentList }

    static let argumentList: [ArgumentDescriptor] = [
        .global("in"), .global("out"), .global("compressd_size"), .global("checksumData"),
        .scalar("input_size", bytes: 4), .scalar("checksumType", bytes: 4),
    ]

    let engine: any DeflateEngine

    /// How far past its input the deflate engine may read.
    static let readAheadBytes = 64

    public init() { self.init(engine: DeflateEngineKind.default) }

    init(engine: DeflateEngineKind) { self.engine = engine.makeEngine() }

    public func workUnits(of invocation: KernelInvocation) -> Int {
        Int(invocation.scalar(Argument.inputSize))
    }

    public func execute(_ invocation: KernelInvocation) throws {
        let input = invocation.buffer(Argument.input)
        let output = invocation.buffer(Argument.output)
        let sizeOut = invocation.buffer(Argument.compressedSize)
        let checksum = invocation.buffer(Argument.checksum)
        let count = Int(invocation.scalar(Argument.inputSize))
        guard count <= input.count else {
            throw KernelFault("input_size \(count) exceeds the \(input.count)-byte input buffer")
        }
        guard sizeOut.count >= 4, checksum.count >= 4 else {
            throw KernelFault("compressd_size and checksumData need at least 4 bytes")
        }
        // ISA-L's match finder loads a few bytes past the end of its input, and the
        // matches it picks can depend on them. Zero what follows the input in the buffer
        // (the device side allocates zeroed guard bytes past the end), so the output
        // depends on the input alone, whatever an earlier run left in the buffer.
        let tail = min(input.count, count + Self.readAheadBytes)
        if tail > count {
            UnsafeMutableRawBufferPointer(rebasing: input[count..<tail]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        let data = UnsafeRawBufferPointer(rebasing: input[0..<count])
        let seed = UInt32(littleEndian: checksum.loadUnaligned(as: UInt32.self))
        // Deflate first: it pulls the input into this core's cache at its own pace, so the
        // checksum, which is bound by memory speed, then reads it from the cache.
        let written = try engine.compressBlocks(data, into: output)
        let result: UInt32
        if invocation.scalar(Argument.checksumType) != 0 {
            result = Checksum.crc32(data, continuing: ~seed)
        } else {
            result = Checksum.adler32(data, continuing: seed)
        }
        sizeOut.storeBytes(of: UInt32(written).littleEndian, as: UInt32.self)
        checksum.storeBytes(of: result.littleEndian, as: UInt32.self)
    }
}
