#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Consecutive gzip members inflated from one start offset of a file whose member
/// boundaries are not indexed: what lets a multi-member file from any gzip writer
/// (`cat a.gz b.gz`, `bgzip`, appended logs) decompress in parallel.
///
/// Where a member starts is only known once the member before it is inflated, so a
/// chain is speculative: ``inflate(from:until:fileSize:buffer:holding:from:read:into:softLimit:)`` starts
/// at a candidate header (``nextCandidate(in:from:)``) and follows the chain to the
/// first member starting at or past a limit. The caller uses a chain only from a member
/// start it reached itself by inflating everything before it, so a candidate that was
/// not really a member start costs time, never correctness: inflating is deterministic,
/// so a member inflated from its true start gives the bytes and the checks (CRC-32,
/// ISIZE) that the sequential path gives.
public struct GzipMemberChain: Sendable, Equatable {
    /// File offsets where the chain's members start, then where the last one ends:
    /// one more element than ``members``.
    public private(set) var starts: [Int]
    /// The output offset (within the chain's output) of each entry of ``starts``.
    public private(set) var outputOffsets: [Int]

    /// Members in the chain (at least one).
    public var members: Int { starts.count - 1 }
    /// Where the last member ends: the next member's start, zero padding, or the file's end.
    public var end: Int { starts[starts.count - 1] }
    /// Output bytes of the whole chain.
    public var outputCount: Int { outputOffsets[outputOffsets.count - 1] }

    /// The offset in ``starts`` of the member starting at `offset`, if the chain has one.
    public func member(startingAt offset: Int) -> Int? {
        guard offset >= starts[0], offset < end else { return nil }
        var low = 0
        var high = members - 1
        while low <= high {
            let middle = (low + high) / 2
            if starts[middle] == offset { return middle }
            if starts[middle] < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// The first offset at or after `from` in `bytes` where a member header could start:
    /// ID1 ID2 CM = 1f 8b 08, the reserved flag bits clear, XFL 0, 2 or 4 and a known OS
    /// (0-13, or 255 unknown). Every header gzip, zlib, pigz, igzip, bgzip and this
    /// library write passes; a random position passes with odds of about 1 in 2^40.
    /// Needs the header's 10 bytes inside `bytes`.
    public static func nextCandidate(in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var position = from
        while position + 10 <= bytes.count {
            guard let base = bytes.baseAddress,
                let found = memchr(base + position, 0x1f, bytes.count - 9 - position)
            else { return nil }
            let offset = base.distance(to: UnsafeRawPointer(found))
            let extraFlags = bytes[offset + 8]
            let system = bytes[offset + 9]
            if bytes[offset + 1] == 0x8b && bytes[offset + 2] == 8 && bytes[offset + 3] & 0xe0 == 0
                && (extraFlags == 0 || extraFlags == 2 || extraFlags == 4) && (system <= 13 || system == 255)
            {
                return offset
            }
            position = offset + 1
        }
        return nil
    }

    /// Inflates the members starting at `start` into `output`, one after another, and
    /// stops before the first member that starts at or past `limit`, at the file's end,
    /// before a member once `softLimit` output bytes are made, before whatever follows
    /// a member that is not another member (zero padding, garbage), and before a member
    /// that is damaged, cut short by the file's end or too large for `output`.
    ///
    /// Returns nil when the member at `start` itself is not a whole valid member that
    /// fits: then `start` was not a member start (or what starts there is for the
    /// sequential path to report). `buffer[0..<filled]` holds the file's bytes from
    /// `bufferOffset` on, with `start` among them; the chain reads on into `buffer` (what
    /// it held is overwritten) with `read(offset, buffer)`, which reads the file at
    /// `offset` and returns the bytes read, fewer only at the end. Blocks.
    public static func inflate(
        from start: Int, until limit: Int, fileSize: Int,
        buffer: UnsafeMutableRawBufferPointer, holding filled: Int, from bufferOffset: Int,
        read: (Int, UnsafeMutableRawBufferPointer) throws -> Int,
        into output: UnsafeMutableRawBufferPointer, softLimit: Int
    ) throws -> GzipMemberChain? {
        precondition(buffer.count >= 16, "the buffer must hold a member header's start")
        precondition(start >= bufferOffset && start < bufferOffset + filled, "start must be in the buffer")
        var chain = GzipMemberChain(starts: [start], outputOffsets: [0])
        let inflater = GzipStreamInflater(offset: start, members: 0)
        inflater.stopsAfterEachMember = true
        // buffer[position..<filled] holds the file's bytes from `inflater.bytesIn` on.
        var filled = filled
        var position = start - bufferOffset
        var produced = 0
        // Called once the inflater has taken every byte in the buffer (it keeps what it
        // needs of a header or trailer cut by the buffer's end).
        func refill() throws -> Bool {
            precondition(position == filled, "refill() with unread bytes in the buffer")
            filled = try read(inflater.bytesIn, buffer)
            position = 0
            return filled > 0
        }
        while true {
            let memberStart = chain.end
            if memberStart != start {
                if memberStart >= limit || memberStart >= fileSize || produced >= softLimit { return chain }
                if position == filled, try !refill() { return chain }
                // Zero padding or garbage after a member: the sequential path's to judge.
                if buffer[position] != 0x1f { return chain }
            }
            let before = inflater.members
            do {
                while inflater.members == before {
                    if position == filled, try !refill() {
                        // Cut short by the file's end.
                        return chain.members > 0 ? chain : nil
                    }
                    let room = UnsafeMutableRawBufferPointer(rebasing: output[produced...])
                    let (consumed, made) = try inflater.inflate(
                        UnsafeRawBufferPointer(rebasing: buffer[position..<filled]), into: room)
                    position += consumed
                    produced += made
                    // No room left with the member unfinished: too large for this chain.
                    if produced == output.count && inflater.members == before {
                        return chain.members > 0 ? chain : nil
                    }
                }
            } catch is GzipError {
                return chain.members > 0 ? chain : nil
            }
            chain.starts.append(inflater.bytesIn)
            chain.outputOffsets.append(produced)
        }
    }
}
