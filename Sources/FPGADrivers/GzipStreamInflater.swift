import CZlib

/// Decompresses any gzip stream, single or multi-member, from bytes fed in pieces,
/// checking every member's CRC-32 and ISIZE: the sequential path, what `gzip -dc` does.
///
/// Like `gzip -dc`, zero bytes after the last member are ignored; any other trailing
/// bytes are an error (gzip warns and exits 2). Not thread-safe: one task feeds it.
public final class GzipStreamInflater {
    private var stream = z_stream()
    private var output: UnsafeMutableRawBufferPointer
    /// Input bytes consumed so far.
    public private(set) var bytesIn = 0
    /// Members completed so far.
    public private(set) var members = 0
    private var inMember = false
    private var memberStart = 0
    private var inTrailingZeros = false

    /// `bufferSize` is the size of each piece handed to the output closure.
    public init(bufferSize: Int = 256 << 10) {
        output = .allocate(byteCount: bufferSize, alignment: 64)
        let status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit2 failed: \(status)")
    }

    deinit {
        inflateEnd(&stream)
        output.deallocate()
    }

    /// Feeds the next input bytes; calls `sink` with each piece of output, in order.
    public func feed(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var position = 0
        while position < input.count {
            if !inMember {
                if inTrailingZeros || (members > 0 && input[position] == 0) {
                    // gzip ignores zero padding after the last member; anything else is garbage.
                    inTrailingZeros = true
                    guard input[position...].allSatisfy({ $0 == 0 }) else {
                        throw GzipError.trailingGarbage(offset: bytesIn)
                    }
                    bytesIn += input.count - position
                    return
                }
                if members > 0 && input[position] != 0x1f { throw GzipError.trailingGarbage(offset: bytesIn) }
                inMember = true
                memberStart = bytesIn
            }
            let piece = UnsafeRawBufferPointer(rebasing: input[position...])
            stream.next_in = UnsafeMutablePointer(mutating: piece.baseAddress!.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = UInt32(min(piece.count, Int(UInt32.max)))
            let offered = Int(stream.avail_in)
            var ended = false
            repeat {
                stream.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(output.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                let produced = output.count - Int(stream.avail_out)
                if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
                switch status {
                case Z_OK, Z_BUF_ERROR: break
                case Z_STREAM_END: ended = true
                default: throw mapError(status)
                }
            } while !ended && stream.avail_out == 0
            let consumed = offered - Int(stream.avail_in)
            position += consumed
            bytesIn += consumed
            if ended {
                members += 1
                inMember = false
                inflateReset(&stream)
            } else if consumed == 0 && stream.avail_in > 0 {
                throw GzipError.corruptData("inflate made no progress", member: members, offset: bytesIn)
            }
        }
    }

    /// Ends the stream: throws if it stopped inside a member or held no member at all.
    public func finish() throws {
        if inMember || members == 0 { throw GzipError.truncated(offset: bytesIn) }
    }

    private func mapError(_ status: Int32) -> GzipError {
        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
        switch message {
        case "incorrect data check": return .crcMismatch(member: members, offset: memberStart)
        case "incorrect length check": return .lengthMismatch(member: members, offset: memberStart)
        case "incorrect header check":
            return members > 0 ? .trailingGarbage(offset: memberStart) : .notGzip(offset: memberStart)
        case "unknown compression method": return .unsupportedMethod(-1, offset: memberStart)
        case "unknown header flags set", "header crc mismatch": return .badHeader(message, offset: memberStart)
        default: return .corruptData(message, member: members, offset: bytesIn)
        }
    }
}
