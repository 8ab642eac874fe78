/// The layout of the gzip members FPGACluster writes: one member per chunk, each with
/// an FEXTRA subfield `FC` that records the member's compressed and uncompressed sizes
/// so a reader can find every member without inflating.
///
/// ```
/// offset  size  field
///      0     4  1f 8b 08 04       ID1 ID2 CM=deflate FLG=FEXTRA
///      4     4  00 00 00 00       MTIME (none)
///      8     1  04                XFL (fastest)
///      9     1  03                OS (Unix)
///     10     2  0c 00             XLEN = 12
///     12     2  46 43             SI1 SI2 = "FC"
///     14     2  08 00             LEN = 8
///     16     4  CSIZE             the whole member's length, header to ISIZE, u32 LE
///     20     4  USIZE             uncompressed bytes, u32 LE
///     24     n  deflate blocks    from xilGzipCompBlock: none final, byte aligned
///   24+n     5  01 00 00 ff ff    empty final stored block
///   29+n     4  CRC-32            of the uncompressed bytes, LE
///   33+n     4  ISIZE             uncompressed bytes mod 2^32, LE
/// ```
///
/// Every gzip reader skips FEXTRA, so the file is an ordinary multi-member gzip file
/// (RFC 1952, section 2.2). BGZF's `BC` subfield is the model; ours stores 32-bit sizes.
public enum GzipMember {
    /// Bytes before the deflate data.
    public static let headerSize = 24
    /// Bytes after the deflate data: the final block and the trailer.
    public static let trailerSize = 13
    /// The largest chunk one member can hold, so that CSIZE fits in 32 bits whatever
    /// the data.
    public static let maxChunkSize = 1 << 30
    /// The subfield id.
    public static let subfieldID: (UInt8, UInt8) = (0x46, 0x43)

    static let finalBlock: [UInt8] = [0x01, 0x00, 0x00, 0xff, 0xff]

    /// Writes a header for a member of `memberSize` bytes holding `uncompressedSize`
    /// bytes into the first ``headerSize`` bytes of `target`.
    static func writeHeader(into target: UnsafeMutableRawBufferPointer, memberSize: Int, uncompressedSize: Int) {
        precondition(target.count >= headerSize)
        let fixed: [UInt8] = [0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x04, 0x03, 12, 0, subfieldID.0, subfieldID.1, 8, 0]
        target.copyBytes(from: fixed)
        target.storeBytes(of: UInt32(memberSize).littleEndian, toByteOffset: 16, as: UInt32.self)
        target.storeBytes(
            of: UInt32(truncatingIfNeeded: uncompressedSize).littleEndian, toByteOffset: 20, as: UInt32.self)
    }

    /// Writes the final block and the trailer into the first ``trailerSize`` bytes.
    static func writeTrailer(into target: UnsafeMutableRawBufferPointer, crc: UInt32, uncompressedSize: Int) {
        precondition(target.count >= trailerSize)
        target.copyBytes(from: finalBlock)
        target.storeBytes(of: crc.littleEndian, toByteOffset: 5, as: UInt32.self)
        target.storeBytes(
            of: UInt32(truncatingIfNeeded: uncompressedSize).littleEndian, toByteOffset: 9, as: UInt32.self)
    }

    /// Builds a whole member from the kernel's deflate blocks.
    public static func assemble(deflateBlocks: UnsafeRawBufferPointer, crc: UInt32, uncompressedSize: Int) -> [UInt8] {
        let total = headerSize + deflateBlocks.count + trailerSize
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            writeHeader(into: raw, memberSize: total, uncompressedSize: uncompressedSize)
            UnsafeMutableRawBufferPointer(rebasing: raw[headerSize..<(headerSize + deflateBlocks.count)])
                .copyMemory(from: deflateBlocks)
            writeTrailer(
                into: UnsafeMutableRawBufferPointer(rebasing: raw[(headerSize + deflateBlocks.count)...]),
                crc: crc, uncompressedSize: uncompressedSize)
            initialized = total
        }
    }
}
