/// Cuts a byte stream into frames, however the stream was split into reads.
///
/// Each header is checked as soon as its 16 bytes are in, so a body over the limit is
/// rejected before anything is allocated for it. A body's storage grows with the bytes that
/// arrive (at most doubling, never past the announced length), so a header alone does not
/// make the decoder allocate the whole body. After an error the decoder stays failed: the
/// connection is unusable and must be closed.
public struct FrameDecoder: Sendable {
    /// The limits every header is checked against.
    public let limits: WireLimits

    private var headerBytes: [UInt8] = []
    private var header: FrameHeader?
    private var body: [UInt8] = []
    private var failure: WireError?

    /// The smallest body storage allocated when a frame's bytes do not all arrive at once.
    private static let initialBodyCapacity = 64 * 1024

    public init(limits: WireLimits = .default) {
        self.limits = limits
        headerBytes.reserveCapacity(FrameHeader.size)
    }

    /// The error that stopped the decoder, if any.
    public var error: WireError? { failure }

    /// Bytes received of the frame not yet complete.
    public var bufferedByteCount: Int { header == nil ? headerBytes.count : FrameHeader.size + body.count }

    /// Takes the next bytes of the stream and returns the frames they complete, in order.
    ///
    /// Throws on the first invalid header, and from then on at every call. Frames completed
    /// earlier in the same call are dropped then, as the connection is to be closed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> [Frame] {
        if let failure { throw failure }
        var frames: [Frame] = []
        var offset = 0
        while true {
            if header == nil {
                let count = min(FrameHeader.size - headerBytes.count, bytes.count - offset)
                guard count > 0 else { break }
                headerBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
                offset += count
                guard headerBytes.count == FrameHeader.size else { break }
                let decoded = headerBytes.withUnsafeBytes { raw in
                    Result { () throws(WireError) in try FrameHeader.decode(raw, limits: limits) }
                }
                switch decoded {
                case .success(let decodedHeader): header = decodedHeader
                case .failure(let error):
                    failure = error
                    throw error
                }
                headerBytes.removeAll(keepingCapacity: true)
            }
            guard let current = header else { break }
            let count = min(current.bodyLength - body.count, bytes.count - offset)
            if count > 0 {
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
                if body.isEmpty && count == current.bodyLength {
                    body = Array(chunk)
                } else {
                    let needed = body.count + count
                    if needed > body.capacity {
                        let grown = max(needed, 2 * body.capacity, Self.initialBodyCapacity)
                        body.reserveCapacity(min(current.bodyLength, grown))
                    }
                    body.append(contentsOf: chunk)
                }
                offset += count
            }
            guard body.count == current.bodyLength else { break }
            frames.append(Frame(header: current, body: body))
            body = []
            header = nil
        }
        return frames
    }
}
