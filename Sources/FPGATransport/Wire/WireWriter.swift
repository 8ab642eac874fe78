/// Writes little-endian fields in order: the head of an outgoing frame, or a job's
/// parameters and payloads in a job's wire codec.
///
/// ```swift
/// var writer = WireWriter(context: "vadd parameters")
/// writer.u32(UInt32(maxElements))
/// let parameters = writer.bytes
/// ```
public struct WireWriter: Sendable {
    /// The bytes written (after the frame header's room, for a frame's writer).
    public private(set) var bytes: [UInt8]
    /// What is being written, for error messages: a message type or a job's name.
    public let context: String
    /// The message type of a frame's writer; nil for a job codec's.
    private let message: MessageType?

    /// A writer of plain fields, described in errors as `context`, with room for
    /// `capacity` bytes.
    public init(context: String, capacity: Int = 64) {
        self.context = context
        self.message = nil
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// A writer of a frame: room for the header, then the message fields.
    init(message: MessageType, capacity: Int = 64) {
        self.context = "\(message)"
        self.message = message
        bytes = [UInt8](repeating: 0, count: FrameHeader.size)
        bytes.reserveCapacity(FrameHeader.size + capacity)
    }

    public mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func u16(_ value: UInt16) {
        integer(UInt64(value), size: 2)
    }

    public mutating func u32(_ value: UInt32) {
        integer(UInt64(value), size: 4)
    }

    public mutating func u64(_ value: UInt64) {
        integer(value, size: 8)
    }

    private mutating func integer(_ value: UInt64, size: Int) {
        for shift in stride(from: 0, to: size * 8, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Bytes as they are, with no length: a fixed-size field, or the last field.
    public mutating func raw(_ value: some Sequence<UInt8>) {
        bytes.append(contentsOf: value)
    }

    /// A field of fixed length, such as a nonce.
    public mutating func fixed(_ value: [UInt8], length: Int, _ field: String) throws(WireError) {
        guard value.count == length else {
            throw .malformed("\(context) \(field) must be \(length) bytes, not \(value.count)")
        }
        bytes += value
    }

    /// A string of at most `WireProtocol.maxStringLength` bytes.
    public mutating func string(_ value: String, _ field: String) throws(WireError) {
        let utf8 = value.utf8
        guard utf8.count <= WireProtocol.maxStringLength else {
            throw .stringTooLong("\(context) \(field)", length: utf8.count)
        }
        u16(UInt16(utf8.count))
        bytes += utf8
    }

    /// A free-text string, cut to its first `WireProtocol.maxStringLength` bytes (at a
    /// character boundary) when longer.
    public mutating func text(_ value: String) {
        var utf8 = Array(value.utf8)
        if utf8.count > WireProtocol.maxStringLength {
            var end = WireProtocol.maxStringLength
            // Back up over continuation bytes to the start of the cut scalar.
            while end > 0 && utf8[end] & 0xc0 == 0x80 { end -= 1 }
            utf8.removeSubrange(end...)
        }
        u16(UInt16(utf8.count))
        bytes += utf8
    }

    /// A byte string: u32 length and the bytes.
    public mutating func byteString(_ value: [UInt8], _ field: String) throws(WireError) {
        guard value.count <= Int(UInt32.max) else { throw .malformed("\(context) \(field) is longer than 4 GiB") }
        u32(UInt32(value.count))
        bytes += value
    }

    /// A u16 count of entries.
    public mutating func count(_ value: Int, _ field: String) throws(WireError) {
        guard value >= 0, value <= Int(UInt16.max) else {
            throw .malformed("\(context) \(field) is \(value), more than \(UInt16.max)")
        }
        u16(UInt16(value))
    }

    /// Fills in the header, for a body of the fields written and `payloadCount` more bytes.
    consuming func finish(requestID: UInt64, payloadCount: Int = 0) throws(WireError) -> [UInt8] {
        guard let message else { preconditionFailure("finish(requestID:) is for a frame's writer") }
        let bodyLength = bytes.count - FrameHeader.size + payloadCount
        guard bodyLength <= Int(UInt32.max) else { throw .bodyTooLarge(length: bodyLength, limit: Int(UInt32.max)) }
        let header = FrameHeader(type: message, bodyLength: bodyLength, requestID: requestID)
        bytes.withUnsafeMutableBytes { header.write(into: $0) }
        return bytes
    }
}
