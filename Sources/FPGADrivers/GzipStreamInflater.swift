import CISAL

/// Decompresses any gzip stream, single or multi-member, from bytes fed in pieces,
/// checking every member's CRC-32 and ISIZE: the sequential path, what `gzip -dc` does.
///
/// Inflates with ISA-L (`isal_inflate`), igzip's inflater: one core at igzip's speed.
/// Headers (FEXTRA, FNAME, FCOMMENT, FHCRC) are parsed here and the trailer is checked
/// here, so the errors name the member and the byte where it starts.
///
/// Like `gzip -dc`, zero bytes after the last member are ignored; any other trailing
/// bytes are an error (gzip warns and exits 2). Not thread-safe: one task feeds it.
public final class GzipStreamInflater {
    private let state: UnsafeMutablePointer<inflate_state>
    private let bufferSize: Int
    /// ``feed(_:sink:)``'s buffer, allocated on its first use.
    private var output: UnsafeMutableRawBufferPointer?
    /// The offset of the next input byte: the bytes consumed so far plus the offset the
    /// stream started at.
    public private(set) var bytesIn: Int
    /// Output bytes produced so far.
    public private(set) var bytesOut = 0
    /// Members completed so far, counting those before the stream's start.
    public private(set) var members: Int
    /// Whether ``inflate(_:into:)`` returns as soon as a member's trailer is checked, so
    /// that the caller sees where each member ends (``bytesIn``) before the next begins.
    public var stopsAfterEachMember = false
    private var phase = Phase.betweenMembers
    private var memberStart = 0
    private var memberOut = 0
    /// Header or trailer bytes gathered across pieces.
    private var pending: [UInt8] = []

    private enum Phase {
        case betweenMembers, header, body, trailer, trailingZeros
    }

    /// `bufferSize` is the size of each piece ``feed(_:sink:)`` hands to its closure.
    /// A stream that starts part way into a file, at a member boundary, gives the
    /// `offset` of its first byte and the `members` before it: errors then name the
    /// file's offsets and members, and zero padding is accepted when `members` > 0.
    public init(bufferSize: Int = 256 << 10, offset: Int = 0, members: Int = 0) {
        precondition(bufferSize > 0, "bufferSize must be positive")
        precondition(offset >= 0 && members >= 0, "offset and members must not be negative")
        self.bufferSize = bufferSize
        self.bytesIn = offset
        self.members = members
        state = .allocate(capacity: 1)
        resetState()
    }

    deinit {
        state.deallocate()
        output?.deallocate()
    }

    /// Feeds the next input bytes; calls `sink` with each piece of output, in order.
    public func feed(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let output = self.output ?? .allocate(byteCount: bufferSize, alignment: 64)
        self.output = output
        var position = 0
        while true {
            let (consumed, produced) = try inflate(UnsafeRawBufferPointer(rebasing: input[position...]), into: output)
            position += consumed
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            // A full buffer may leave output inside the inflater even when the input is used up.
            if position == input.count && produced < output.count { return }
        }
    }

    /// Inflates from `input` into `output` until the input is used up or the output is
    /// full; returns the bytes of each used. Output can remain inside the inflater when
    /// `output` fills: call again (with the input's rest, possibly empty) until it
    /// returns less than `output.count`.
    public func inflate(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(GzipError) -> (consumed: Int, produced: Int) {
        var position = 0
        var produced = 0
        defer {
            bytesIn += position
            bytesOut += produced
        }
        loop: while true {
            switch phase {
            case .betweenMembers:
                guard position < input.count else { break loop }
                if members > 0 && input[position] == 0 {
                    phase = .trailingZeros
                    continue
                }
                if members > 0 && input[position] != 0x1f { throw .trailingGarbage(offset: bytesIn + position) }
                phase = .header
                memberStart = bytesIn + position
                memberOut = bytesOut + produced
                pending.removeAll(keepingCapacity: true)
            case .header:
                guard position < input.count else { break loop }
                let rest = UnsafeRawBufferPointer(rebasing: input[position...])
                if let length = try parseHeader(rest) {
                    position += length
                    phase = .body
                } else {
                    position = input.count
                }
            case .body:
                guard produced < output.count else { break loop }
                let available = min(input.count - position, Int(UInt32.max))
                let room = min(output.count - produced, Int(UInt32.max))
                state.pointee.next_in = UnsafeMutablePointer(
                    mutating: (input.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
                        .advanced(by: position).assumingMemoryBound(to: UInt8.self))
                state.pointee.avail_in = UInt32(available)
                state.pointee.next_out = (output.baseAddress! + produced).assumingMemoryBound(to: UInt8.self)
                state.pointee.avail_out = UInt32(room)
                let status = isal_inflate(state)
                let consumed = available - Int(state.pointee.avail_in)
                let made = room - Int(state.pointee.avail_out)
                if status < 0 { throw error(status, offset: bytesIn + position) }
                position += consumed
                produced += made
                if state.pointee.block_state == ISAL_BLOCK_FINISH {
                    phase = .trailer
                    takeReadAhead()
                } else if consumed == 0 && made == 0 {
                    // Waiting for input (all of it is held in the inflater) or for room.
                    if position < input.count && produced < output.count {
                        throw .corruptData("inflate made no progress", member: members, offset: bytesIn + position)
                    }
                    break loop
                }
            case .trailer:
                let take = min(8 - pending.count, input.count - position)
                pending.append(contentsOf: input[position..<(position + take)])
                position += take
                guard pending.count == 8 else { break loop }
                try checkTrailer(size: bytesOut + produced - memberOut)
                members += 1
                phase = .betweenMembers
                resetState()
                if stopsAfterEachMember { break loop }
            case .trailingZeros:
                // gzip ignores zero padding after the last member; anything else is garbage.
                if let garbage = input[position...].firstIndex(where: { $0 != 0 }) {
                    throw .trailingGarbage(offset: bytesIn + garbage)
                }
                position = input.count
                break loop
            }
        }
        return (position, produced)
    }

    /// Ends the stream: throws if it stopped inside a member or held no member at all.
    public func finish() throws(GzipError) {
        switch phase {
        case .betweenMembers, .trailingZeros: if members == 0 { throw .truncated(offset: bytesIn) }
        case .header, .body, .trailer: throw .truncated(offset: bytesIn)
        }
    }

    /// Parses the member header at the start of `bytes` (after what `pending` holds);
    /// returns how many of `bytes` it takes, or nil when it needs more (all are kept).
    private func parseHeader(_ bytes: UnsafeRawBufferPointer) throws(GzipError) -> Int? {
        let before = pending.count
        let result: Result<GzipHeader.ParseResult, GzipError>
        if before == 0 {
            result = Result { () throws(GzipError) in
                try GzipHeader.parse(bytes, offset: memberStart, readingIndex: false)
            }
        } else {
            pending.append(contentsOf: bytes)
            result = pending.withUnsafeBytes { joined in
                Result { () throws(GzipError) in try GzipHeader.parse(joined, offset: memberStart, readingIndex: false)
                }
            }
        }
        let parsed: GzipHeader.ParseResult
        switch result {
        case .success(let value): parsed = value
        case .failure(.notGzip) where members > 0: throw .trailingGarbage(offset: memberStart)
        case .failure(let error): throw error
        }
        switch parsed {
        case .header(let header):
            pending.removeAll(keepingCapacity: true)
            return header.length - before
        case .needMore:
            if before == 0 { pending.append(contentsOf: bytes) }
            return nil
        }
    }

    /// Checks the CRC-32 and ISIZE in `pending` against what the member inflated to.
    private func checkTrailer(size: Int) throws(GzipError) {
        let crc = pending.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) }
        let isize = pending.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        }
        // zlib's order: the CRC first, then the length.
        guard crc == state.pointee.crc else { throw .crcMismatch(member: members, offset: memberStart) }
        guard isize == UInt32(truncatingIfNeeded: size) else {
            throw .lengthMismatch(member: members, offset: memberStart)
        }
    }

    /// Moves the whole bytes ISA-L read past the deflate data (it keeps up to 8 in its
    /// bit buffer, and with `ISAL_GZIP_NO_HDR` does not give them back) into `pending`:
    /// they are the start of the trailer. Bits left of the final block's last byte go.
    private func takeReadAhead() {
        pending.removeAll(keepingCapacity: true)
        let bits = Int(state.pointee.read_in_length)
        guard bits > 0 else { return }
        let buffered = state.pointee.read_in >> UInt64(bits % 8)
        for index in 0..<(bits / 8) { pending.append(UInt8(truncatingIfNeeded: buffered >> UInt64(8 * index))) }
        state.pointee.read_in = 0
        state.pointee.read_in_length = 0
    }

    private func resetState() {
        isal_inflate_init(state)
        // Raw deflate with the gzip CRC-32 kept in state.crc; the trailer is read here.
        state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR)
    }

    private func error(_ status: Int32, offset: Int) -> GzipError {
        let reason =
            switch status {
            case ISAL_INVALID_BLOCK: "invalid block"
            case ISAL_INVALID_SYMBOL: "invalid code"
            case ISAL_INVALID_LOOKBACK: "invalid distance too far back"
            default: "ISA-L inflate status \(status)"
            }
        return .corruptData(reason, member: members, offset: offset)
    }
}
