/// Reads the fields of one message body in order.
///
/// Every read checks the bytes left first, so a length field larger than the body fails
/// with `WireError.truncated` before anything is allocated for it.
struct WireReader {
    let body: [UInt8]
    let message: MessageType
    private(set) var position = 0

    init(_ body: [UInt8], message: MessageType) {
        self.body = body
        self.message = message
    }

    /// Bytes not read yet.
    var remaining: Int { body.count - position }

    /// The next `count` bytes, as a slice of the body.
    mutating func take(_ count: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard count <= remaining else { throw .truncated("\(message) \(field)") }
        let start = position
        position += count
        return body[start..<position]
    }

    mutating func u8(_ field: String) throws(WireError) -> UInt8 {
        try take(1, field).first!
    }

    mutating func u16(_ field: String) throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try integer(2, field))
    }

    mutating func u32(_ field: String) throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try integer(4, field))
    }

    mutating func u64(_ field: String) throws(WireError) -> UInt64 {
        try integer(8, field)
    }

    private mutating func integer(_ size: Int, _ field: String) throws(WireError) -> UInt64 {
        let bytes = try take(size, field)
        var value: UInt64 = 0
        for byte in bytes.reversed() { value = value << 8 | UInt64(byte) }
        return value
    }

    /// A field of fixed length, such as a nonce.
    mutating func fixed(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        Array(try take(count, field))
    }

    /// A string: u16 length, then that many bytes of UTF-8.
    mutating func string(_ field: String) throws(WireError) -> String {
        let length = Int(try u16(field))
        guard length <= WireProtocol.maxStringLength else {
            throw .stringTooLong("\(message) \(field)", length: length)
        }
        let bytes = try take(length, field)
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8("\(message) \(field)") }
        return string
    }

    /// A byte string: u32 length, then that many bytes.
    mutating func byteString(_ field: String) throws(WireError) -> [UInt8] {
        let length = Int(try u32(field))
        return Array(try take(length, field))
    }

    /// A u16 count of entries that each take at least `minimumEntrySize` bytes, checked
    /// against the bytes left so that a huge count fails at once.
    mutating func count(_ field: String, minimumEntrySize: Int) throws(WireError) -> Int {
        let count = Int(try u16(field))
        guard count * minimumEntrySize <= remaining else {
            throw .malformed(
                "\(message) \(field) is \(count), more entries than the \(remaining) bytes left can hold")
        }
        return count
    }

    /// The rest of the body, as a slice of it.
    mutating func rest() -> ArraySlice<UInt8> {
        let start = position
        position = body.count
        return body[start...]
    }

    /// Checks that the whole body was read.
    func finish() throws(WireError) {
        guard remaining == 0 else { throw .malformed("\(remaining) unexpected bytes after the \(message) fields") }
    }
}
