import CZlib
import FPGADrivers

/// The reference for ``GzipStreamInflater`` (which inflates with ISA-L): the same
/// contract on zlib, as the library had it before. Differential tests feed both the same
/// pieces and compare outputs and errors.
///
/// Like `gzip -dc`, zero bytes after the last member are ignored; any other trailing
/// bytes are an error (gzip warns and exits 2). Not thread-safe: one task feeds it.
public final class ZlibStreamInflater {
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

/// gzip members written with zlib's deflate, with any header the tests need.
public enum ZlibGzip {
    /// Header flags: FTEXT 0x01, FHCRC 0x02, FEXTRA 0x04, FNAME 0x08, FCOMMENT 0x10.
    public struct Header: Sendable {
        public var extra: [UInt8]?
        public var name: [UInt8]?
        public var comment: [UInt8]?
        public var headerCRC = false
        public var text = false

        public init(
            extra: [UInt8]? = nil, name: [UInt8]? = nil, comment: [UInt8]? = nil, headerCRC: Bool = false,
            text: Bool = false
        ) {
            self.extra = extra
            self.name = name
            self.comment = comment
            self.headerCRC = headerCRC
            self.text = text
        }

        /// The header's bytes (names and comments must hold no zero byte).
        public var bytes: [UInt8] {
            var flags: UInt8 = text ? 0x01 : 0
            if headerCRC { flags |= 0x02 }
            if extra != nil { flags |= 0x04 }
            if name != nil { flags |= 0x08 }
            if comment != nil { flags |= 0x10 }
            var out: [UInt8] = [0x1f, 0x8b, 8, flags, 0x78, 0x56, 0x34, 0x12, 0, 3]
            if let extra { out += [UInt8(extra.count & 0xff), UInt8(extra.count >> 8)] + extra }
            if let name { out += name + [0] }
            if let comment { out += comment + [0] }
            if headerCRC {
                let crc = out.withUnsafeBytes {
                    UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, UInt32($0.count)))
                }
                out += [UInt8(crc & 0xff), UInt8((crc >> 8) & 0xff)]
            }
            return out
        }
    }

    /// One member holding `data`, deflated by zlib at `level` with `strategy`
    /// (Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED).
    public static func member(
        _ data: [UInt8], level: Int32 = 6, strategy: Int32 = Z_DEFAULT_STRATEGY, header: Header = Header()
    ) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(
            &stream, level, Z_DEFLATED, -15, 8, strategy, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK)
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(data.count))) + 64
        var deflated = [UInt8](repeating: 0, count: bound)
        var input = data
        input.withUnsafeMutableBytes { raw in
            deflated.withUnsafeMutableBytes { out in
                stream.next_in = raw.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(raw.count)
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(out.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
            }
        }
        deflated.removeLast(Int(stream.avail_out))
        let crc = data.withUnsafeBytes {
            UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, UInt32($0.count)))
        }
        let size = UInt32(truncatingIfNeeded: data.count)
        var trailer: [UInt8] = []
        for value in [crc, size] {
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8((value >> UInt32(shift)) & 0xff)) }
        }
        return header.bytes + deflated + trailer
    }
}
