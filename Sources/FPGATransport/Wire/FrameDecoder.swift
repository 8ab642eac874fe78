/// Cuts a byte stream into frames, however the stream was split into reads. Every connection
/// reads its socket through one, so what the tests and the fuzzer feed it is what a peer's
/// bytes go through.
///
/// Two ways in, which may be mixed:
/// - ``read(_:)`` lends the decoder's own storage for the stream's next bytes (the rest of the
///   current header, or the rest of the current body, never more), so a socket can be read
///   straight into the array a ``Frame`` hands out, without copying; ``nextFrame()`` then
///   checks a header that is complete or hands out a frame that is.
/// - ``feed(_:)`` copies bytes from the caller's buffer and returns every frame they complete.
///
/// A header is checked as soon as its 16 bytes are in (by the step after the read that
/// completes it), against ``limits`` as they are then, so a body over the limit is rejected
/// before anything is allocated for it or read of it. A body's storage
/// is allocated once, at its announced length, when its header has passed: the limit bounds
/// what a header can make the decoder allocate. After an error the decoder stays failed: the
/// connection is unusable and must be closed.
public struct FrameDecoder: Sendable {
    /// The limits each header is checked against when its 16 bytes are in. A connection raises
    /// them once the handshake is complete; a change applies from the next header checked.
    public var limits: WireLimits

    private var headerBytes = [UInt8](repeating: 0, count: FrameHeader.size)
    private var headerFilled = 0
    /// The current frame's header, once checked; its body is being filled.
    private var header: FrameHeader?
    private var body: [UInt8] = []
    private var bodyFilled = 0
    private var failure: WireError?

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// The error that stopped the decoder, if any.
    public var error: WireError? { failure }

    /// Bytes received of the frame not yet complete.
    public var bufferedByteCount: Int { header == nil ? headerFilled : FrameHeader.size + bodyFilled }

    /// How many bytes ``read(_:)`` takes next: the rest of the current header or body. 0 after
    /// an error, and while a complete header or frame waits for ``nextFrame()``.
    public var bytesWanted: Int {
        guard failure == nil else { return 0 }
        guard let header else { return FrameHeader.size - headerFilled }
        return header.bodyLength - bodyFilled
    }

    /// Lends `fill` the storage for the stream's next ``bytesWanted`` bytes, which must be more
    /// than 0 (call ``nextFrame()`` after every read that stores bytes). `fill` writes the
    /// stream's next bytes at the start of the buffer and returns how many, at most the
    /// buffer's size; a result of 0 or less stores nothing (a `recv` result for the end of the
    /// stream or an error, say) and is returned as is.
    public mutating func read(_ fill: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        let wanted = bytesWanted
        precondition(wanted > 0, "FrameDecoder.read: nothing wanted (call nextFrame() first, or the decoder failed)")
        let stored: Int
        if header == nil {
            let start = headerFilled
            stored = headerBytes.withUnsafeMutableBytes { raw in
                fill(UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + wanted)]))
            }
            precondition(stored <= wanted, "FrameDecoder.read: \(stored) bytes stored in a \(wanted)-byte region")
            if stored > 0 { headerFilled += stored }
        } else {
            let start = bodyFilled
            stored = body.withUnsafeMutableBytes { raw in
                fill(UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + wanted)]))
            }
            precondition(stored <= wanted, "FrameDecoder.read: \(stored) bytes stored in a \(wanted)-byte region")
            if stored > 0 { bodyFilled += stored }
        }
        return stored
    }

    /// Takes the step the bytes read so far allow: checks the current header if its 16 bytes
    /// are in (against ``limits`` as they are now), and returns the current frame if its body
    /// is complete (a frame with an empty body completes with its header). Returns nil when
    /// more bytes are needed.
    ///
    /// Throws on an invalid header, and from then on at every call.
    public mutating func nextFrame() throws(WireError) -> Frame? {
        if let failure { throw failure }
        if header == nil {
            guard headerFilled == FrameHeader.size else { return nil }
            let decoded = headerBytes.withUnsafeBytes { raw in
                Result { () throws(WireError) in try FrameHeader.decode(raw, limits: limits) }
            }
            switch decoded {
            case .success(let checked):
                headerFilled = 0
                header = checked
                bodyFilled = 0
                // Uninitialized: read(_:) lends only the bytes not yet filled, and the frame is
                // handed out only once every byte is filled.
                body = [UInt8](unsafeUninitializedCapacity: checked.bodyLength) { _, count in
                    count = checked.bodyLength
                }
            case .failure(let error):
                failure = error
                throw error
            }
        }
        guard let current = header, bodyFilled == current.bodyLength else { return nil }
        var finished: [UInt8] = []
        swap(&finished, &body)
        header = nil
        bodyFilled = 0
        return Frame(header: current, body: finished)
    }

    /// Takes the next bytes of the stream and returns the frames they complete, in order.
    ///
    /// Throws on the first invalid header, and from then on at every call. Frames completed
    /// earlier in the same call are dropped then, as the connection is to be closed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> [Frame] {
        var frames: [Frame] = []
        var offset = 0
        while true {
            if let frame = try nextFrame() { frames.append(frame) }
            let count = min(bytesWanted, bytes.count - offset)
            guard count > 0 else { break }
            let source = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            _ = read { region in
                region.copyMemory(from: source)
                return count
            }
            offset += count
        }
        return frames
    }
}
