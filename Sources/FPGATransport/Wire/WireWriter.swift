/// Builds the head of an outgoing frame: room for the header, then the message fields.
struct WireWriter {
    private(set) var bytes: [UInt8]
    let message: MessageType

    init(message: MessageType, capacity: Int = 64) {
        self.message = message
        bytes = [UInt8](repeating: 0, count: FrameHeader.size)
        bytes.reserveCapacity(FrameHeader.size + capacity)
    }

    mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func u16(_ value: UInt16) {
        integer(UInt64(value), size: 2)
    }

    mutating func u32(_ value: UInt32) {
        integer(UInt64(value), size: 4)
    }

    mutating func u64(_ value: UInt64) {
        integer(value, size: 8)
    }

    private mutating func integer(_ value: UInt64, size: Int) {
        for shift in stride(from: 0, to: size * 8, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// A field of fixed length, such as a nonce.
    mutating func fixed(_ value: [UInt8], length: Int, _ field: String) throws(WireError) {
        guard value.count == length else {
            throw .malformed("\(message) \(field) must be \(length) bytes, not \(value.count)")
        }
        bytes += value
    }

    /// A string of at most `WireProtocol.maxStringLength` bytes.
    mutating func string(_ value: String, _ field: String) throws(WireError) {
        let utf8 = value.utf8
        guard utf8.count <= WireProtocol.maxStringLength else {
            throw .stringTooLong("\(message) \(field)", length: utf8.count)
        }
        u16(UInt16(utf8.count))
        bytes += utf8
    }

    /// A free-text string, cut to its first `WireProtocol.maxStringLength` bytes (at a
    /// character boundary) when longer.
    mutating func text(_ value: String) {
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
    mutating func byteString(_ value: [UInt8], _ field: String) throws(WireError) {
        guard value.count <= Int(UInt32.max) else { throw .malformed("\(message) \(field) is longer than 4 GiB") }
        u32(UInt32(value.count))
        bytes += value
    }

    /// A u16 count of entries.
    mutating func count(_ value: Int, _ field: String) throws(WireError) {
        guard value <= Int(UInt16.max) else {
            throw .malformed("\(message) \(field) is \(value), more than \(UInt16.max)")
        }
        u16(UInt16(value))
    }

    /// Fills in the header, for a body of the fields written and `payloadCount` more bytes.
    consuming func finish(requestID: UInt64, payloadCount: Int = 0) throws(WireError) -> [UInt8] {
        let bodyLength = bytes.count - FrameHeader.size + payloadCount
        guard bodyLength <= Int(UInt32.max) else { throw .bodyTooLarge(length: bodyLength, limit: Int(UInt32.max)) }
        let header = FrameHeader(type: message, bodyLength: bodyLength, requestID: requestID)
        bytes.withUnsafeMutableBytes { header.write(into: $0) }
        return bytes
    }
}
