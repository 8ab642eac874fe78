/// Bytes not read yet: `count` bytes that are read when something has room for them, such
/// as a chunk of a file that a local device reads straight into its buffer
/// (``DeferredInputDriver``) and any other node loads into memory to run or send.
///
/// Either way the bytes can be read again (an input that goes back to the queue after its
/// node was lost runs on another).
public struct DeferredBytes: Sendable {
    /// How many bytes there are.
    public let count: Int
    private let reader: @Sendable (UnsafeMutableRawBufferPointer) throws -> Void
    private let loader: @Sendable () async throws -> ArraySlice<UInt8>

    /// Bytes that `read` writes into the start of a buffer of at least `count` bytes,
    /// blocking its thread (it throws when it cannot give them all), and that `load`
    /// returns in memory of their own without blocking the cooperative pool.
    public init(
        count: Int, read: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Void,
        load: @escaping @Sendable () async throws -> ArraySlice<UInt8>
    ) {
        self.count = count
        self.reader = read
        self.loader = load
    }

    /// Bytes already in memory.
    public init(_ bytes: ArraySlice<UInt8>) {
        count = bytes.count
        reader = { buffer in
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        loader = { bytes }
    }

    /// Reads the bytes into the start of `buffer`, on the calling thread, which it may
    /// block: call it from a dedicated thread (a device's), not the cooperative pool.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count >= count, "a buffer of \(buffer.count) bytes for \(count)")
        try reader(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// The bytes in memory of their own.
    public func load() async throws -> ArraySlice<UInt8> {
        try await loader()
    }
}
