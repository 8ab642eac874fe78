import FPGATransport

/// One stream for the decoder, the limits it is read with, and what is known of its frames.
struct FuzzCase {
    /// The bytes a peer sends.
    var stream: [UInt8]
    /// The limits in force from the start.
    var limits: WireLimits
    /// A handshake completing: once this many bytes are read, the limits are raised (as a
    /// connection raises them after its handshake, between a read and the step after it).
    var raise: (offset: Int, limits: WireLimits)?
    /// How many frames (or pieces of garbage) the stream was built from.
    var frameCount: Int
    /// For a stream that was not mutated: the frames it holds, in order.
    var expectedFrames: [Frame]?
    /// For a stream that was not mutated, when known: how it ends.
    var expectedEnd: Outcome.End?
    /// For a stream that was not mutated: the messages of frames built from messages, by index.
    var messages: [Int: WireMessage] = [:]

    /// The most a header may announce anywhere in the stream.
    var largestLimit: Int { max(limits.maxBodyLength, raise?.limits.maxBodyLength ?? 0) }

    /// The limits the header ending at stream offset `headerEnd` is checked against.
    func limits(forHeaderEndingAt headerEnd: Int) -> WireLimits {
        if let raise, headerEnd >= raise.offset { return raise.limits }
        return limits
    }
}

/// What reading a whole stream gives: its frames, then an error or the bytes of an incomplete frame.
struct Outcome: Equatable {
    enum End: Equatable {
        /// The decoder failed with this error.
        case error(WireError)
        /// The stream ended with this many bytes of a frame not complete.
        case buffered(Int)
    }
    var frames: [Frame]
    var end: End
}

/// Reads `fuzzCase.stream` in one pass over the whole buffer: the oracle every split is
/// compared with. It shares nothing with `FrameDecoder` but `FrameHeader`'s field layout.
func referenceOutcome(_ fuzzCase: FuzzCase) -> Outcome {
    let stream = fuzzCase.stream
    var frames: [Frame] = []
    var position = 0
    while true {
        let remaining = stream.count - position
        guard remaining >= FrameHeader.size else { return Outcome(frames: frames, end: .buffered(remaining)) }
        let header = stream[position..<(position + FrameHeader.size)].map { $0 }
        let limit = fuzzCase.limits(forHeaderEndingAt: position + FrameHeader.size).maxBodyLength
        guard header[0] == 0x46, header[1] == 0x57 else {
            return Outcome(frames: frames, end: .error(.badMagic(header[0], header[1])))
        }
        guard let type = MessageType(rawValue: header[2]) else {
            return Outcome(frames: frames, end: .error(.unknownMessageType(header[2])))
        }
        guard header[3] == 0 else { return Outcome(frames: frames, end: .error(.nonzeroFlags(header[3]))) }
        let length = (4..<8).reduce(0) { $0 | Int(header[$1]) << (8 * ($1 - 4)) }
        guard length <= limit else {
            return Outcome(frames: frames, end: .error(.bodyTooLarge(length: length, limit: limit)))
        }
        let requestID = (8..<16).reduce(UInt64(0)) { $0 | UInt64(header[$1]) << (8 * ($1 - 8)) }
        guard remaining >= FrameHeader.size + length else { return Outcome(frames: frames, end: .buffered(remaining)) }
        let bodyStart = position + FrameHeader.size
        frames.append(
            Frame(
                header: FrameHeader(type: type, bodyLength: length, requestID: requestID),
                body: Array(stream[bodyStart..<(bodyStart + length)])))
        position = bodyStart + length
    }
}
