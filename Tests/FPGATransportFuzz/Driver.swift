import FPGATransport

/// How a stream is cut into reads: what one read returns at most.
enum Split: CustomStringConvertible {
    /// Every read returns all the decoder asks for (a socket with plenty waiting).
    case whole
    /// One byte per read.
    case single
    /// Reads of 1 to `max` bytes, at random.
    case random(max: Int)

    var description: String {
        switch self {
        case .whole: "whole reads"
        case .single: "1-byte reads"
        case .random(let max): "reads of 1...\(max) bytes"
        }
    }

    func size(using random: inout FuzzRandom) -> Int {
        switch self {
        case .whole: Int.max
        case .single: 1
        case .random(let max): Int.random(in: 1...max, using: &random)
        }
    }
}

/// Reads `fuzzCase.stream` through `FrameDecoder` as a connection does: each read lends the
/// decoder's storage (as `recv` gets it), the limits are raised between a read and the step
/// after it once the handshake offset is passed, and `nextFrame()` follows every read.
/// Checks the decoder's promises on the way and records what it breaks in `failures`.
func decodeAsConnection(
    _ fuzzCase: FuzzCase, split: Split, using random: inout FuzzRandom, failures: inout [String]
) -> Outcome {
    let stream = fuzzCase.stream
    var decoder = FrameDecoder(limits: fuzzCase.limits)
    var frames: [Frame] = []
    var position = 0
    var raised = false
    while true {
        let wanted = decoder.bytesWanted
        // Never more storage than the largest limit allows (or a header's 16 bytes).
        guard wanted > 0, wanted <= max(FrameHeader.size, fuzzCase.largestLimit) else {
            failures.append("\(split): decoder wants \(wanted) bytes (largest limit \(fuzzCase.largestLimit))")
            return Outcome(frames: frames, end: .buffered(decoder.bufferedByteCount))
        }
        if position == stream.count { return Outcome(frames: frames, end: .buffered(decoder.bufferedByteCount)) }
        let offered = min(split.size(using: &random), stream.count - position)
        var lent = 0
        let got = stream.withUnsafeBytes { source in
            decoder.read { region in
                lent = region.count
                let count = min(region.count, offered)
                region.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<(position + count)]))
                return count
            }
        }
        if lent != wanted { failures.append("\(split): read lent \(lent) bytes, bytesWanted said \(wanted)") }
        position += got
        if let raise = fuzzCase.raise, !raised, position >= raise.offset {
            decoder.limits = raise.limits
            raised = true
        }
        do {
            if let frame = try decoder.nextFrame() {
                checkStorage(of: frame, split: split, failures: &failures)
                frames.append(frame)
            }
        } catch {
            if decoder.error != error {
                failures.append("\(split): threw \(error), error says \(String(describing: decoder.error))")
            }
            if decoder.bytesWanted != 0 {
                failures.append("\(split): a failed decoder wants \(decoder.bytesWanted) bytes")
            }
            do {
                _ = try decoder.nextFrame()
                failures.append("\(split): a failed decoder stepped again")
            } catch let again where again != error {
                failures.append("\(split): failed with \(error), then with \(again)")
            } catch {}
            return Outcome(frames: frames, end: .error(error))
        }
    }
}

/// Reads `fuzzCase.stream` with `FrameDecoder.feed(_:)` in pieces of 1 to `maxPiece` bytes.
/// feed drops the frames completed in the call that fails, so its frames may be fewer then.
func decodeByFeeding(_ fuzzCase: FuzzCase, maxPiece: Int, using random: inout FuzzRandom) -> Outcome {
    var decoder = FrameDecoder(limits: fuzzCase.limits)
    var frames: [Frame] = []
    var position = 0
    while position < fuzzCase.stream.count {
        let count = min(Int.random(in: 1...maxPiece, using: &random), fuzzCase.stream.count - position)
        let result = fuzzCase.stream[position..<(position + count)].withUnsafeBytes { raw in
            Result { () throws(WireError) in try decoder.feed(raw) }
        }
        switch result {
        case .success(let more): frames += more
        case .failure(let error): return Outcome(frames: frames, end: .error(error))
        }
        position += count
    }
    return Outcome(frames: frames, end: .buffered(decoder.bufferedByteCount))
}

/// A frame's body is exactly as long as its header says, in storage no larger than that
/// needs (the allocator rounds up to its granule or a page).
private func checkStorage(of frame: Frame, split: Split, failures: inout [String]) {
    if frame.body.count != frame.header.bodyLength {
        failures.append("\(split): a body of \(frame.body.count) bytes, its header says \(frame.header.bodyLength)")
    }
    if frame.body.capacity > frame.body.count + 4096 {
        failures.append("\(split): a \(frame.body.count)-byte body in \(frame.body.capacity) bytes of storage")
    }
}
