import CZlib
import FPGADevice

@testable import FPGAKernels

/// The empty final stored block that closes a stream of non-final blocks ending on a
/// byte boundary: BFINAL=1, BTYPE=00, padding, LEN=0, NLEN=0xFFFF.
let finalEmptyStoredBlock: [UInt8] = [0x01, 0x00, 0x00, 0xFF, 0xFF]

struct ZlibError: Error, CustomStringConvertible {
    var status: Int32
    var message: String
    var description: String { "zlib status \(status): \(message)" }
}

/// Inflates a whole stream with zlib: raw deflate for `windowBits` -15, a gzip member
/// for 31. Throws unless the stream ends properly, exactly at the end of `data`.
func zlibInflate(_ data: [UInt8], windowBits: Int32 = -15) throws -> [UInt8] {
    var stream = z_stream()
    let initStatus = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard initStatus == Z_OK else { throw ZlibError(status: initStatus, message: "inflateInit2") }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var input = data
    return try input.withUnsafeMutableBufferPointer { inputBuffer in
        stream.next_in = inputBuffer.baseAddress
        stream.avail_in = UInt32(inputBuffer.count)
        while true {
            let (status, produced) = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                stream.next_out = chunkBuffer.baseAddress
                stream.avail_out = UInt32(chunkBuffer.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, chunkBuffer.count - Int(stream.avail_out))
            }
            output.append(contentsOf: chunk[..<produced])
            switch status {
            case Z_STREAM_END:
                guard stream.avail_in == 0 else {
                    throw ZlibError(status: status, message: "\(stream.avail_in) bytes after the end of the stream")
                }
                return output
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0:
                throw ZlibError(status: status, message: "the stream is truncated")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "no message"
                throw ZlibError(status: status, message: message)
            }
        }
    }
}

/// zlib's CRC-32 of `bytes`, continuing from `crc`.
func zlibCRC32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBufferPointer { UInt32(CZlib.crc32(UInt(crc), $0.baseAddress, UInt32($0.count))) }
}

/// zlib's Adler-32 of `bytes`, continuing from `adler`.
func zlibAdler32(_ bytes: [UInt8], continuing adler: UInt32 = 1) -> UInt32 {
    bytes.withUnsafeBufferPointer { UInt32(CZlib.adler32(UInt(adler), $0.baseAddress, UInt32($0.count))) }
}

/// A gzip member around raw deflate blocks that end on a byte boundary without a final
/// block, the way the host driver frames the kernel's output.
func gzipMember(blocks: [UInt8], crc: UInt32, size: Int) -> [UInt8] {
    var member: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
    member += blocks
    member += finalEmptyStoredBlock
    withUnsafeBytes(of: crc.littleEndian) { member += $0 }
    withUnsafeBytes(of: UInt32(truncatingIfNeeded: size).littleEndian) { member += $0 }
    return member
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

/// Sample inputs, built once.
enum Samples {
    static let text = Array(
        String(
            repeating:
                "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.\n",
            count: 400
        ).utf8)
    static let random1MiB = pseudoRandomBytes(1 << 20, seed: 0x5EED)
    /// 1 MiB of a short pattern.
    static let repetitive1MiB = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 7 &* 31) }
    static let zeros = [UInt8](repeating: 0, count: 300_000)
    /// Random bytes over several 64 KiB stored-block limits.
    static let random200K = pseudoRandomBytes(200_000, seed: 42)
    /// Compressible and incompressible stretches in turn.
    static let mixed = Array(
        (0..<8).map { $0 % 2 == 0 ? pseudoRandomBytes(40_000, seed: UInt64($0)) : Array(text.prefix(40_000)) }.joined())
}

/// A named input for parameterised tests.
struct SampleInput: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var description: String { "\(name) (\(bytes.count) bytes)" }

    static let all: [SampleInput] = [
        SampleInput(name: "empty", bytes: []),
        SampleInput(name: "one byte", bytes: [0x42]),
        SampleInput(name: "text", bytes: Samples.text),
        SampleInput(name: "random 1 MiB", bytes: Samples.random1MiB),
        SampleInput(name: "repetitive 1 MiB", bytes: Samples.repetitive1MiB),
        SampleInput(name: "zeros", bytes: Samples.zeros),
        SampleInput(name: "random 200 KB", bytes: Samples.random200K),
        SampleInput(name: "mixed", bytes: Samples.mixed),
    ]
}

extension DeflateEngine {
    /// Compresses into a buffer of `capacity` bytes (deflateBound by default).
    func compress(_ input: [UInt8], capacity: Int? = nil) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: capacity ?? deflateBound(input.count))
        let written = try input.withUnsafeBytes { source in
            try output.withUnsafeMutableBytes { target in try compressBlocks(source, into: target) }
        }
        precondition(written <= output.count)
        return Array(output[..<written])
    }
}
