/// The 16 bytes that start every frame.
///
/// | Offset | Size | Field |
/// | --- | --- | --- |
/// | 0 | 2 | magic `0x46 0x57` (`FW`) |
/// | 2 | 1 | message type |
/// | 3 | 1 | flags, always 0 |
/// | 4 | 4 | body length, u32 little-endian |
/// | 8 | 8 | request id, u64 little-endian (0 when unused) |
public struct FrameHeader: Sendable, Hashable {
    /// The header's length in bytes.
    public static let size = 16

    /// The message the body holds.
    public var type: MessageType
    /// The body's length in bytes, at most `UInt32.max`.
    public var bodyLength: Int
    /// The run a RUN, RESULT or CANCEL is about; 0 for other messages.
    public var requestID: UInt64

    public init(type: MessageType, bodyLength: Int, requestID: UInt64 = 0) {
        self.type = type
        self.bodyLength = bodyLength
        self.requestID = requestID
    }

    /// The header's 16 bytes.
    public func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.size) { buffer, initialized in
            write(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = Self.size
        }
    }

    /// Writes the header's 16 bytes at the start of `buffer`, which must hold at least 16.
    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.size, "a frame header needs 16 bytes")
        precondition(bodyLength >= 0 && bodyLength <= Int(UInt32.max), "body length \(bodyLength) out of range")
        buffer[0] = WireProtocol.magic[0]
        buffer[1] = WireProtocol.magic[1]
        buffer[2] = type.rawValue
        buffer[3] = 0
        buffer.storeBytes(of: UInt32(bodyLength).littleEndian, toByteOffset: 4, as: UInt32.self)
        buffer.storeBytes(of: requestID.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// Reads the header at the start of `bytes` (at least 16 bytes), checking the magic,
    /// the message type, the flags and the body length against `limits`, in that order.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: WireLimits) throws(WireError) -> FrameHeader {
        guard bytes.count >= size else { throw .truncated("frame header") }
        guard bytes[0] == WireProtocol.magic[0], bytes[1] == WireProtocol.magic[1] else {
            throw .badMagic(bytes[0], bytes[1])
        }
        guard let type = MessageType(rawValue: bytes[2]) else { throw .unknownMessageType(bytes[2]) }
        guard bytes[3] == 0 else { throw .nonzeroFlags(bytes[3]) }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard length <= limits.maxBodyLength else {
            throw .bodyTooLarge(length: length, limit: limits.maxBodyLength)
        }
        let requestID = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        return FrameHeader(type: type, bodyLength: length, requestID: requestID)
    }
}
