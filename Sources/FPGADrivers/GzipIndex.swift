/// Where each member of an indexed gzip file is, found by walking the `FC` subfields
/// without inflating anything.
public struct GzipIndex: Sendable, Hashable {
    /// One member's place.
    public struct Member: Sendable, Hashable {
        /// Its position in the file, counting from 0.
        public var number: Int
        /// Its first byte's offset in the file.
        public var offset: Int
        /// Its parsed header (with the sizes).
        public var header: GzipHeader
        /// Its length in bytes.
        public var size: Int { header.index!.memberSize }
        /// Its uncompressed length.
        public var uncompressedSize: Int { header.index!.uncompressedSize }
    }

    /// The members in file order.
    public var members: [Member]
    /// The total uncompressed size.
    public var uncompressedSize: Int { members.reduce(0) { $0 + $1.uncompressedSize } }

    /// The largest member the index path accepts (a 64 MiB chunk stored, with headers);
    /// files with larger members are read sequentially, in bounded memory.
    public static let maxMemberSize = (64 << 20) + (64 << 20) / 64 + 4096 + 64

    /// Reads the index of a stream of `size` bytes through `read(offset, count)`, which
    /// returns up to `count` bytes at `offset`. Returns nil when some member has no `FC`
    /// subfield or one too large, so the stream must be read sequentially; throws for a
    /// stream that is not gzip, is cut short, or has garbage after its last member.
    public static func build(
        size: Int, read: (_ offset: Int, _ count: Int) async throws -> [UInt8]
    ) async throws -> GzipIndex? {
        var members: [Member] = []
        var offset = 0
        while offset < size || members.isEmpty {
            var want = min(64, size - offset)
            var header: GzipHeader?
            while header == nil {
                let bytes = try await read(offset, want)
                if !members.isEmpty && bytes.allSatisfy({ $0 == 0 }) && offset + bytes.count == size {
                    return GzipIndex(members: members)  // zero padding after the last member
                }
                let parsed: GzipHeader.ParseResult
                do {
                    parsed = try bytes.withUnsafeBytes { try GzipHeader.parse($0, offset: offset) }
                } catch GzipError.notGzip where !members.isEmpty {
                    if try await isZeroPadding(from: offset, size: size, read: read) {
                        return GzipIndex(members: members)
                    }
                    throw GzipError.trailingGarbage(offset: offset)
                }
                switch parsed {
                case .header(let found): header = found
                case .needMore(let count):
                    guard offset + want < size else { throw GzipError.truncated(offset: size) }
                    want = min(max(count, want * 2), size - offset)
                }
            }
            guard let sizes = header!.index, sizes.memberSize <= maxMemberSize,
                sizes.uncompressedSize <= maxMemberSize
            else { return nil }
            guard offset + sizes.memberSize <= size else { throw GzipError.truncated(offset: size) }
            members.append(Member(number: members.count, offset: offset, header: header!))
            offset += sizes.memberSize
        }
        return GzipIndex(members: members)
    }

    /// The index of bytes in memory.
    public static func build(_ bytes: [UInt8]) async throws -> GzipIndex? {
        try await build(size: bytes.count) { offset, count in Array(bytes[offset..<(offset + count)]) }
    }

    private static func isZeroPadding(
        from offset: Int, size: Int, read: (Int, Int) async throws -> [UInt8]
    ) async throws -> Bool {
        var position = offset
        while position < size {
            let piece = try await read(position, min(1 << 20, size - position))
            guard !piece.isEmpty, piece.allSatisfy({ $0 == 0 }) else { return false }
            position += piece.count
        }
        return true
    }
}
