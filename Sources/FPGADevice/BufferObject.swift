/// A handle to a buffer object in device memory (XRT's `xrt::bo`).
///
/// The device owns the memory; the handle names it. A handle is valid on the device that
/// allocated it until it is freed or another xclbin is loaded.
public struct BufferObject: Sendable, Hashable {
    /// The device-wide id of the buffer.
    public let id: UInt64
    /// Its size in bytes.
    public let size: Int
    /// The memory group (bank index) it lives in.
    public let group: Int
    /// Identifies the device that allocated it, so that another device refuses it.
    public let owner: UInt64

    public init(id: UInt64, size: Int, group: Int, owner: UInt64) {
        self.id = id
        self.size = size
        self.group = group
        self.owner = owner
    }
}

/// One argument of a kernel run, in declaration order.
public enum KernelArgument: Sendable, Hashable {
    /// A buffer object, for a `global` (pointer) argument.
    case buffer(BufferObject)
    /// A scalar value, for a scalar argument.
    case scalar(UInt64)

    public static func scalar(_ value: Int) -> KernelArgument { .scalar(UInt64(truncatingIfNeeded: value)) }
    public static func scalar(_ value: UInt32) -> KernelArgument { .scalar(UInt64(value)) }
    public static func scalar(_ value: Bool) -> KernelArgument { .scalar(UInt64(value ? 1 : 0)) }
}

extension BufferObject {
    /// The bytes a sync of `size` bytes (`nil`: to the end) from `offset` covers, as XRT's
    /// `bo::sync` takes them; throws ``DeviceError/bufferRange(offset:size:bufferSize:)``
    /// when they are not inside the buffer.
    public func syncRange(size: Int?, offset: Int) throws(DeviceError) -> Range<Int> {
        let count = size ?? (self.size - offset)
        guard offset >= 0, count >= 0, count <= self.size - offset else {
            throw .bufferRange(offset: offset, size: count, bufferSize: self.size)
        }
        return offset..<(offset + count)
    }
}
