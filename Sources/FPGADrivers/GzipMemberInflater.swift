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
        guard member.count == sizes.memberSize else { throw .truncated(offset: offset + member.count) }
        precondition(output.count > sizes.uncompressedSize, "the output needs a spare byte")
        let body = UnsafeRawBufferPointer(rebasing: member[header.length...])
        let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
        defer { state.deallocate() }
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
        state.pointee.next_in = UnsafeMutablePointer(mutating: body.baseAddress!.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = UInt32(body.count)
        // The spare byte: a member that inflates to more than its index says overflows
        // into it, which is a length mismatch rather than a silent truncation.
        let room = sizes.uncompressedSize + 1
        state.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = UInt32(room)
        let status = isal_inflate(state)
        let produced = room - Int(state.pointee.avail_out)
        let isize = UInt32(littleEndian: member.loadUnaligned(fromByteOffset: member.count - 4, as: UInt32.self))
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
        guard state.pointee.block_state == ISAL_BLOCK_FINISH else {
            throw .truncated(offset: offset + member.count)
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
