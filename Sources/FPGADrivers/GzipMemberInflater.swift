import CISAL

/// Decompresses one indexed member (one with an `FC` subfield) in a single call, into
/// an array of exactly the size the index records, with ISA-L, checking the trailer's
/// CRC-32 and ISIZE. Members are independent, so many of these run in parallel.
public enum GzipMemberInflater {
    /// Inflates `member`, the whole member's bytes, whose parsed header is `header`.
    /// `number` and `offset` locate it in its file for error messages.
    public static func inflate(
        _ member: UnsafeRawBufferPointer, header: GzipHeader, number: Int, offset: Int
    ) throws(GzipError) -> [UInt8] {
        guard let sizes = header.index else { throw .badHeader("member has no FC index subfield", offset: offset) }
        var failure: GzipError?
        let result = [UInt8](unsafeUninitializedCapacity: sizes.uncompressedSize + 1) { buffer, initialized in
            do throws(GzipError) {
                initialized = try inflate(
                    member, header: header, number: number, offset: offset, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Inflates `member` (as ``inflate(_:header:number:offset:)``) into `output`, which must
    /// hold at least one byte more than the member's indexed uncompressed size; returns the
    /// bytes written, always that size. For callers that reuse their output buffers.
    public static func inflate(
        _ member: UnsafeRawBufferPointer, header: GzipHeader, number: Int, offset: Int,
        into output: UnsafeMutableRawBufferPointer
    ) throws(GzipError) -> Int {
        guard let sizes = header.index else { throw .badHeader("member has no FC index subfield", offset: offset) }
        precondition(output.count > sizes.uncompressedSize, "the output needs a spare byte")
        return try inflate(member, header: header, number: number, offset: offset, slicesOf: output) { _, _ in true }
    }

    /// Inflates `member` (as ``inflate(_:header:number:offset:)``) a slice at a time into
    /// `slice`, a buffer of any size that it reuses, and hands each slice's bytes to `deliver`
    /// with their offset in the member before it inflates the next: for callers that write a
    /// member as it comes out rather than hold all of it, so that a member of any size needs
    /// only a buffer that stays in the core's cache. Returns the bytes inflated, always the
    /// indexed uncompressed size. The checks are those of the whole-member call; a slice is
    /// delivered before the trailer's are made, so a caller must discard what it was given
    /// when this throws.
    public static func inflate(
        _ member: UnsafeRawBufferPointer, header: GzipHeader, number: Int, offset: Int,
        slicesOf slice: UnsafeMutableRawBufferPointer,
        deliver: (_ bytes: UnsafeRawBufferPointer, _ at: Int) throws -> Void
    ) throws -> Int {
        var failure: (any Error)?
        let produced = try inflate(member, header: header, number: number, offset: offset, slicesOf: slice) {
            bytes, at in
            do {
                try deliver(bytes, at)
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return produced
    }

    /// The inflating loop of both calls: `deliver` returns false to stop at once (it failed).
    private static func inflate(
        _ member: UnsafeRawBufferPointer, header: GzipHeader, number: Int, offset: Int,
        slicesOf slice: UnsafeMutableRawBufferPointer,
        deliver: (_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Bool
    ) throws(GzipError) -> Int {
        guard let sizes = header.index else { throw .badHeader("member has no FC index subfield", offset: offset) }
        guard member.count == sizes.memberSize else { throw .truncated(offset: offset + member.count) }
        precondition(slice.count > 0, "an empty slice buffer")
        let body = UnsafeRawBufferPointer(rebasing: member[header.length...])
        let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
        defer { state.deallocate() }
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
        state.pointee.next_in = UnsafeMutablePointer(mutating: body.baseAddress!.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = UInt32(body.count)
        let isize = UInt32(littleEndian: member.loadUnaligned(fromByteOffset: member.count - 4, as: UInt32.self))
        var produced = 0
        while true {
            // Room for one byte more than the index allows in all: a member that inflates
            // to more than its index says overflows into it, which is a length mismatch
            // rather than a silent truncation.
            let room = min(slice.count, sizes.uncompressedSize + 1 - produced)
            let pending = state.pointee.avail_in
            state.pointee.next_out = slice.baseAddress!.assumingMemoryBound(to: UInt8.self)
            state.pointee.avail_out = UInt32(room)
            let status = isal_inflate(state)
            let made = room - Int(state.pointee.avail_out)
            switch status {
            case ISAL_DECOMP_OK, ISAL_END_INPUT: break
            case ISAL_INCORRECT_CHECKSUM:
                // ISA-L checks CRC and ISIZE together; tell the two apart.
                if isize != UInt32(truncatingIfNeeded: sizes.uncompressedSize) {
                    throw .lengthMismatch(member: number, offset: offset)
                }
                throw .crcMismatch(member: number, offset: offset)
            case ISAL_OUT_OVERFLOW: throw .lengthMismatch(member: number, offset: offset)
            default: throw .corruptData("ISA-L inflate status \(status)", member: number, offset: offset)
            }
            produced += made
            guard produced <= sizes.uncompressedSize else { throw .lengthMismatch(member: number, offset: offset) }
            if made > 0 {
                guard deliver(UnsafeRawBufferPointer(rebasing: slice[0..<made]), produced - made) else {
                    return produced
                }
            }
            if state.pointee.block_state == ISAL_BLOCK_FINISH { break }
            // Neither input taken nor output made: the member's data ends inside its stream.
            guard made > 0 || state.pointee.avail_in < pending else { throw .truncated(offset: offset + member.count) }
        }
        guard produced == sizes.uncompressedSize else { throw .lengthMismatch(member: number, offset: offset) }
        guard state.pointee.avail_in == 0 else {
            throw .badHeader("member data ends \(state.pointee.avail_in) bytes before its indexed size", offset: offset)
        }
        guard isize == UInt32(truncatingIfNeeded: sizes.uncompressedSize) else {
            throw .lengthMismatch(member: number, offset: offset)
        }
        return produced
    }
}
