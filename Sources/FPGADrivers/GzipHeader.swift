import FPGAKernels

/// A parsed gzip member header (RFC 1952, section 2.3).
public struct GzipHeader: Sendable, Hashable {
    /// Bytes from the start of the member to its deflate data.
    public var length: Int
    /// The sizes from the `FC` subfield, when the member has one.
    public var index: MemberSizes?

    public init(length: Int, index: MemberSizes?) {
        self.length = length
        self.index = index
    }

    /// What the `FC` subfield records.
    public struct MemberSizes: Sendable, Hashable {
        /// The whole member's length in bytes.
        public var memberSize: Int
        /// Its uncompressed size.
        public var uncompressedSize: Int

        public init(memberSize: Int, uncompressedSize: Int) {
            self.memberSize = memberSize
            self.uncompressedSize = uncompressedSize
        }
    }

    /// The outcome of looking at the start of some bytes.
    public enum ParseResult: Sendable, Hashable {
        case header(GzipHeader)
        /// More bytes are needed; at least this many in all.
        case needMore(Int)
    }

    /// Parses the header at the start of `bytes`, which begin at `offset` in the stream
    /// (for error messages). With `readingIndex` false the FEXTRA field is skipped
    /// unread, as gzip does: a foreign file's extra field need not be well-formed
    /// subfields, and its `index` is then nil.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, offset: Int, readingIndex: Bool = true
    ) throws(GzipError) -> ParseResult {
        guard bytes.count >= 10 else {
            if bytes.count >= 1 && bytes[0] != 0x1f || bytes.count >= 2 && bytes[1] != 0x8b {
                throw .notGzip(offset: offset)
            }
            return .needMore(10)
        }
        guard bytes[0] == 0x1f, bytes[1] == 0x8b else { throw .notGzip(offset: offset) }
        guard bytes[2] == 8 else { throw .unsupportedMethod(Int(bytes[2]), offset: offset) }
        let flags = bytes[3]
        guard flags & 0xe0 == 0 else { throw .badHeader("reserved flag bits are set", offset: offset) }
        var position = 10
        var index: MemberSizes?
        if flags & 0x04 != 0 {
            guard bytes.count >= position + 2 else { return .needMore(position + 2) }
            let extraLength = Int(bytes[position]) | Int(bytes[position + 1]) << 8
            position += 2
            guard bytes.count >= position + extraLength else { return .needMore(position + extraLength) }
            if readingIndex {
                index = try parseExtra(
                    UnsafeRawBufferPointer(rebasing: bytes[position..<(position + extraLength)]), offset: offset)
            }
            position += extraLength
        }
        for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {
            // FNAME, FCOMMENT: zero-terminated strings.
            guard let end = bytes[position...].firstIndex(of: 0) else { return .needMore(bytes.count + 1) }
            position = end + 1
        }
        if flags & 0x02 != 0 {
            guard bytes.count >= position + 2 else { return .needMore(position + 2) }
            let stored = UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
            let computed = UInt16(
                truncatingIfNeeded: Checksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<position])))
            guard stored == computed else { throw .badHeader("header CRC mismatch", offset: offset) }
            position += 2
        }
        if let index, index.memberSize < position + GzipMember.trailerSize {
            throw .badHeader("FC subfield gives a member size of \(index.memberSize) bytes, too small", offset: offset)
        }
        return .header(GzipHeader(length: position, index: index))
    }

    private static func parseExtra(_ extra: UnsafeRawBufferPointer, offset: Int) throws(GzipError) -> MemberSizes? {
        var position = 0
        var found: MemberSizes?
        while position < extra.count {
            guard position + 4 <= extra.count else {
                throw .badHeader("FEXTRA subfield header is cut short", offset: offset)
            }
            let id = (extra[position], extra[position + 1])
            let length = Int(extra[position + 2]) | Int(extra[position + 3]) << 8
            position += 4
            guard position + length <= extra.count else {
                throw .badHeader("FEXTRA subfield runs past the extra field", offset: offset)
            }
            if id == GzipMember.subfieldID {
                guard length == 8 else { throw .badHeader("FC subfield has length \(length), not 8", offset: offset) }
                let memberSize = Int(
                    UInt32(littleEndian: extra.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                let size = Int(UInt32(littleEndian: extra.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)))
                found = MemberSizes(memberSize: memberSize, uncompressedSize: size)
            }
            position += length
        }
        return found
    }
}
