import FPGAKernels
import FPGATransport
import Testing

@Suite("cutting a byte stream into frames")
struct FrameDecoderTests {
    @Test func everySplitOfAStreamGivesTheSameFrames() throws {
        let outgoing = try sampleFrames()
        let stream = outgoing.flatMap(\.bytes)
        let expected = try decodeFrames(stream)
        #expect(expected.count == outgoing.count)
        for (frame, sample) in zip(expected, sampleMessages) { #expect(try frame.decodeMessage() == sample.message) }
        for split in 0...stream.count {
            var decoder = FrameDecoder()
            var frames = try feed(&decoder, stream[..<split])
            frames += try feed(&decoder, stream[split...])
            if frames != expected {
                Issue.record("split at \(split) gave different frames")
                break
            }
        }
    }

    @Test func oneByteAtATime() throws {
        let stream = try sampleFrames().flatMap(\.bytes)
        var decoder = FrameDecoder()
        var frames: [Frame] = []
        for index in stream.indices {
            frames += try feed(&decoder, stream[index..<(index + 1)])
            #expect(decoder.bufferedByteCount <= index + 1)
        }
        #expect(frames == (try decodeFrames(stream)))
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func randomChunks() throws {
        let stream = try sampleFrames().flatMap(\.bytes)
        let expected = try decodeFrames(stream)
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            var decoder = FrameDecoder()
            var frames: [Frame] = []
            var offset = 0
            while offset < stream.count {
                let count = min(Int.random(in: 0...64, using: &random), stream.count - offset)
                frames += try feed(&decoder, stream[offset..<(offset + count)])
                offset += count
            }
            #expect(frames == expected)
        }
    }

    @Test func largeBodyArrivingInPiecesIsNotOverallocated() throws {
        let payload = ArraySlice((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let stream = try OutgoingFrame.result(id: 9, .success, payload: payload).bytes
        var decoder = FrameDecoder()
        var frames: [Frame] = []
        for start in stride(from: 0, to: stream.count, by: 1000) {
            frames += try feed(&decoder, stream[start..<min(start + 1000, stream.count)])
        }
        let frame = try #require(frames.first)
        #expect(frames.count == 1)
        #expect(frame.body.capacity < frame.body.count + 4096)
        #expect(try frame.decodeMessage() == .result(.success, payload: payload))
    }

    @Test func badHeadersAreRejected() throws {
        let valid = rawFrame(8, body: [UInt8](repeating: 0, count: 8))
        var badMagic = valid
        badMagic[1] = 0x58
        #expect(throws: WireError.badMagic(0x46, 0x58)) { try decodeFrames(badMagic) }
        var flags = valid
        flags[3] = 1
        #expect(throws: WireError.nonzeroFlags(1)) { try decodeFrames(flags) }
        for type: UInt8 in [0, 13, 0xff] {
            var unknown = valid
            unknown[2] = type
            #expect(throws: WireError.unknownMessageType(type)) { try decodeFrames(unknown) }
        }
    }

    @Test func oversizedBodyIsRejectedFromTheHeaderAlone() throws {
        let limits = WireLimits(maxBodyLength: 1000)
        // Only the 16 header bytes: the decoder must not wait for, or allocate, the body.
        var decoder = FrameDecoder(limits: limits)
        let header = FrameHeader(type: .run, bodyLength: 1001, requestID: 1).encoded()
        #expect(try feed(&decoder, header[..<15]).isEmpty)
        #expect(throws: WireError.bodyTooLarge(length: 1001, limit: 1000)) { try feed(&decoder, header[15...]) }
        // The largest length a header can hold, against the default limit.
        var defaultDecoder = FrameDecoder()
        let huge = FrameHeader(type: .result, bodyLength: Int(UInt32.max), requestID: 1).encoded()
        #expect(throws: WireError.bodyTooLarge(length: Int(UInt32.max), limit: 75_497_472)) {
            try feed(&defaultDecoder, huge[...])
        }
        // At the limit is fine.
        var atLimit = FrameDecoder(limits: limits)
        #expect(try feed(&atLimit, FrameHeader(type: .run, bodyLength: 1000, requestID: 1).encoded()[...]).isEmpty)
        #expect(atLimit.bufferedByteCount == 16)
        #expect(throws: WireError.bodyTooLarge(length: 1001, limit: 1000)) {
            try header.withUnsafeBytes { try FrameHeader.decode($0, limits: limits) }
        }
        #expect(WireLimits.default.maxBodyLength == 72 << 20)
    }

    @Test func aFailedDecoderStaysFailed() throws {
        var decoder = FrameDecoder()
        var bad = rawFrame(9, body: [15, 0, 0, 0])
        bad[0] = 0
        #expect(throws: WireError.badMagic(0, 0x57)) { try feed(&decoder, bad[...]) }
        #expect(decoder.error == .badMagic(0, 0x57))
        let good = OutgoingFrame.heartbeat(Heartbeat(timestampMilliseconds: 5)).bytes
        #expect(throws: WireError.badMagic(0, 0x57)) { try feed(&decoder, good[...]) }
    }

    @Test func shortHeaderIsTruncated() {
        let header = FrameHeader(type: .cancel, bodyLength: 0, requestID: 1).encoded()
        #expect(throws: WireError.truncated("frame header")) {
            try header.dropLast().withUnsafeBytes { try FrameHeader.decode($0, limits: .default) }
        }
    }

    // MARK: Reading as a connection does

    @Test func readingAsAConnectionGivesTheSameFramesAsFeeding() throws {
        let stream = try sampleFrames().flatMap(\.bytes)
        let expected = try decodeFrames(stream)
        for maxRead in [1, 2, 3, 15, 16, 17, 100, 4096, .max] {
            var decoder = FrameDecoder()
            #expect(try readAsConnection(&decoder, stream[...], maxRead: maxRead) == expected, "reads of \(maxRead)")
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    /// A read lends the rest of the header, then the rest of the body, never more: a
    /// connection's `recv` cannot take bytes of the next frame. The body is read straight into
    /// the array the frame hands out.
    @Test func readLendsTheCurrentFramesStorageOnly() throws {
        let payload = ArraySlice((0..<1000).map { UInt8(truncatingIfNeeded: $0) })
        let stream = try OutgoingFrame.result(id: 3, .success, payload: payload).bytes
        var decoder = FrameDecoder()
        #expect(decoder.bytesWanted == 16)
        var offset = 0
        var lent: [Int] = []
        var bodyStorage: UnsafeMutableRawPointer?
        var frame: Frame?
        while frame == nil {
            let stored = stream.withUnsafeBytes { source in
                decoder.read { region in
                    lent.append(region.count)
                    if offset >= 16 && bodyStorage == nil { bodyStorage = region.baseAddress }
                    let count = min(region.count, 600)
                    region.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
                    return count
                }
            }
            offset += stored
            frame = try decoder.nextFrame()
        }
        #expect(lent == [16, 1001, 401])
        let body = try #require(frame).body
        #expect(body == Array(stream[16...]))
        body.withUnsafeBytes { #expect($0.baseAddress == UnsafeRawPointer(bodyStorage)) }
        #expect(decoder.bytesWanted == 16)
    }

    /// What a read stores counts; a `recv` result of 0 (end of stream) or -1 stores nothing.
    @Test func aReadThatStoresNothingChangesNothing() throws {
        var decoder = FrameDecoder()
        #expect(decoder.read { _ in -1 } == -1)
        #expect(decoder.read { _ in 0 } == 0)
        #expect(decoder.bufferedByteCount == 0)
        #expect(try decoder.nextFrame() == nil)
        let cancel = try OutgoingFrame.cancel(id: 4).bytes
        #expect(try readAsConnection(&decoder, cancel[..<7]).isEmpty)
        #expect(decoder.read { _ in -1 } == -1)
        #expect(decoder.bufferedByteCount == 7)
        #expect(decoder.bytesWanted == 9)
        #expect(try readAsConnection(&decoder, cancel[7...]).map(\.header.requestID) == [4])
    }

    /// Limits raised between the read that completes a header and the step after it apply to
    /// that header, as when a handshake completes while a frame arrives.
    @Test func limitsRaisedBeforeTheStepApplyToTheHeaderJustRead() throws {
        let header = FrameHeader(type: .run, bodyLength: 100, requestID: 1).encoded()
        var raised = FrameDecoder(limits: WireLimits(maxBodyLength: 10))
        _ = header.withUnsafeBytes { source in
            raised.read { region in
                region.copyMemory(from: source)
                return 16
            }
        }
        raised.limits = WireLimits(maxBodyLength: 100)
        #expect(try raised.nextFrame() == nil)
        #expect(raised.bytesWanted == 100)

        var small = FrameDecoder(limits: WireLimits(maxBodyLength: 10))
        #expect(throws: WireError.bodyTooLarge(length: 100, limit: 10)) { try readAsConnection(&small, header[...]) }
        #expect(small.bytesWanted == 0)
        #expect(small.error == .bodyTooLarge(length: 100, limit: 10))
    }

    @Test func emptyBodiesCompleteAtTheHeader() throws {
        var decoder = FrameDecoder()
        let cancel = try OutgoingFrame.cancel(id: 77).bytes
        let frames = try feed(&decoder, (cancel + cancel)[...])
        #expect(frames.count == 2)
        #expect(frames.allSatisfy { $0.header.requestID == 77 && $0.body.isEmpty })
    }
}
