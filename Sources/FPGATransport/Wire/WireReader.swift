/// Reads little-endian fields from bytes in order: a frame's message fields, or a job's
/// parameters and payloads in a job's wire codec.
///
/// Every read checks the bytes left first, so a length field larger than the bytes fails
/// with `WireError.truncated` before anything is allocated for it. Errors name the field
/// and what was being read (``context``), such as `RUN jobKind` or `vadd input count`.
///
/// ```swift
/// var reader = WireReader(payload, context: "vadd input")
/// let count = Int(try reader.u32("count"))
/// let lhs = try reader.take(count * 4, "lhs")
/// try reader.finish()
/// ```
public struct WireReader: Sendable {
    /// The bytes being read.
    public let bytes: ArraySlice<UInt8>
    /// What the bytes are, for error messages: a message type or a job's name.
    public let context: String
    /// The index in ``bytes`` of the next byte to read.
    public private(set) var position: Int

    /// A reader of `bytes` (read from their start index), described in errors as `context`.
    public init(_ bytes: ArraySlice<UInt8>, context: String) {
        self.bytes = bytes
        self.context = context
        self.position = bytes.startIndex
    }

    /// A reader of a frame body.
    init(_ body: [UInt8], message: MessageType) {
        self.init(body[...], context: "\(message)")
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.endIndex - position }

    /// The next `count` bytes, as a slice of ``bytes`` (no copy).
    public mutating func take(_ count: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated("\(context) \(field)") }
        let start = position
        position += count
        return bytes[start..<position]
    }

    public mutating func u8(_ field: String) throws(WireError) -> UInt8 {
        try take(1, field).first!
    }

    public mutating func u16(_ field: String) throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try integer(2, field))
    }

    public mutating func u32(_ field: String) throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try integer(4, field))
    }

    public mutating func u64(_ field: String) throws(WireError) -> UInt64 {
        try integer(8, field)
    }

    private mutating func integer(_ size: Int, _ field: String) throws(WireError) -> UInt64 {
        let bytes = try take(size, field)
        var value: UInt64 = 0
        for byte in bytes.reversed() { value = value << 8 | UInt64(byte) }
        return value
    }

    /// A field of fixed length, such as a nonce.
    public mutating func fixed(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        Array(try take(count, field))
    }

    /// A string: u16 length, then that many bytes of UTF-8.
    public mutating func string(_ field: String) throws(WireError) -> String {
        let length = Int(try u16(field))
        guard length <= WireProtocol.maxStringLength else {
            throw .stringTooLong("\(context) \(field)", length: length)
        }
        let bytes = try take(length, field)
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8("\(context) \(field)") }
        return string
    }

    /// A byte string: u32 length, then that many bytes.
    public mutating func byteString(_ field: String) throws(WireError) -> [UInt8] {
        let length = Int(try u32(field))
        return Array(try take(length, field))
    }

    /// A u16 count of entries that each take at least `minimumEntrySize` bytes, checked
    /// against the bytes left so that a huge count fails at once.
    public mutating func count(_ field: String, minimumEntrySize: Int) throws(WireError) -> Int {
        let count = Int(try u16(field))
        guard count * minimumEntrySize <= remaining else {
            throw .malformed(
                "\(context) \(field) is \(count), more entries than the \(remaining) bytes left can hold")
        }
        return count
    }

    /// The rest of the bytes, as a slice of ``bytes``.
    public mutating func rest() -> ArraySlice<UInt8> {
        let start = position
        position = bytes.endIndex
        return bytes[start...]
    }

    /// Checks that every byte was read.
    public func finish() throws(WireError) {
        guard remaining == 0 else { throw .malformed("\(remaining) unexpected bytes after the \(context) fields") }
    }
}
