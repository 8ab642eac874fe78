import CZlib
import FPGADrivers
import FPGAKernels
import FPGATestSupport
import Testing

/// What an inflater made of a stream: its output, members and error.
private struct Outcome: CustomStringConvertible {
    var output: [UInt8] = []
    var members = 0
    var error: GzipError?

    var description: String { "\(output.count) bytes, \(members) members, error: \(error.map { "\($0)" } ?? "none")" }
}

/// Feeds `stream` in pieces of the given sizes (the last piece takes the rest).
private func feed(
    _ stream: [UInt8], cuts: [Int],
    into feed: (UnsafeRawBufferPointer, (UnsafeRawBufferPointer) throws -> Void) throws
        -> Void,
    finish: () throws -> Void
) -> (output: [UInt8], error: GzipError?) {
    var output: [UInt8] = []
    do {
        try stream.withUnsafeBytes { raw in
            var position = 0
            for cut in cuts + [raw.count] {
                let end = min(max(cut, position), raw.count)
                try feed(UnsafeRawBufferPointer(rebasing: raw[position..<end])) { output.append(contentsOf: $0) }
                position = end
            }
        }
        try finish()
        return (output, nil)
    } catch let error as GzipError {
        return (output, error)
    } catch {
        Issue.record("not a GzipError: \(error)")
        return (output, nil)
    }
}

private func isal(_ stream: [UInt8], cuts: [Int], bufferSize: Int = 256 << 10) -> Outcome {
    let inflater = GzipStreamInflater(bufferSize: bufferSize)
    let result = feed(stream, cuts: cuts, into: inflater.feed, finish: inflater.finish)
    return Outcome(output: result.output, members: inflater.members, error: result.error)
}

private func zlib(_ stream: [UInt8], cuts: [Int]) -> Outcome {
    let inflater = ZlibStreamInflater()
    let result = feed(stream, cuts: cuts, into: inflater.feed, finish: inflater.finish)
    return Outcome(output: result.output, members: inflater.members, error: result.error)
}

/// Ascending cut points for pieces of random sizes: tiny, medium or large.
private func randomCuts(_ count: Int, using generator: inout SplitMix64) -> [Int] {
    var cuts: [Int] = []
    var position = 0
    let scale = [1, 7, 300, 70_000][Int.random(in: 0..<4, using: &generator)]
    while position < count {
        position += Int.random(in: 0...(scale * 2), using: &generator)
        cuts.append(position)
    }
    return cuts
}

/// The errors zlib and ISA-L may legitimately tell apart: both reject the data, but
/// the two decoders notice bad deflate data at different places.
private func damageClass(_ error: GzipError?) -> String {
    switch error {
    case nil: "none"
    case .corruptData, .crcMismatch, .lengthMismatch, .truncated, .trailingGarbage: "damaged"
    case .notGzip, .unsupportedMethod, .badHeader: "header"
    case .chunkTooLarge: "other"
    }
}

/// Mixed data: text, incompressible runs, zero runs and repeats.
private func mixedData(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    var out: [UInt8] = []
    while out.count < count {
        let length = Int.random(in: 1...40_000, using: &generator)
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: out += TestData.logLines(count: length, seed: generator.next())
        case 1: out += TestData.random(count: length, seed: generator.next())
        case 2: out += [UInt8](repeating: 0, count: length)
        default: out += TestData.repetitive(count: length)
        }
    }
    return Array(out.prefix(count))
}

@Suite("GzipStreamInflater (ISA-L) against zlib")
struct GzipStreamInflaterTests {
    static let headers: [ZlibGzip.Header] = [
        ZlibGzip.Header(),
        ZlibGzip.Header(name: Array("file.txt".utf8)),
        ZlibGzip.Header(comment: Array("a comment".utf8), text: true),
        ZlibGzip.Header(headerCRC: true),
        // Not well-formed subfields: gzip and zlib skip the extra field unread.
        ZlibGzip.Header(extra: [0x46, 0x43, 0x02]),
        ZlibGzip.Header(extra: [0x41, 0x42, 4, 0, 1, 2, 3, 4], name: Array("n".utf8), comment: []),
        ZlibGzip.Header(
            extra: TestData.random(count: 700, seed: 3), name: Array(repeating: 0x61, count: 1000),
            comment: Array("c".utf8), headerCRC: true),
    ]

    /// Members from zlib at several levels and strategies, every header, one to four
    /// members, fed in random pieces: the same output and members as zlib.
    @Test func agreesWithZlibOnValidStreams() {
        var generator = SplitMix64(seed: 0x1f8b)
        let strategies = [Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED]
        for round in 0..<60 {
            var stream: [UInt8] = []
            var expected: [UInt8] = []
            let count = Int.random(in: 1...4, using: &generator)
            for _ in 0..<count {
                let size = [0, 1, 100, 5000, 200_000][Int.random(in: 0..<5, using: &generator)]
                let data = mixedData(size, seed: generator.next())
                let level = Int32.random(in: 0...9, using: &generator)
                let strategy = strategies.randomElement(using: &generator)!
                let header = Self.headers.randomElement(using: &generator)!
                stream += ZlibGzip.member(data, level: level, strategy: strategy, header: header)
                expected += data
            }
            if round % 5 == 0 { stream += [UInt8](repeating: 0, count: Int.random(in: 1...3000, using: &generator)) }
            let cuts = randomCuts(stream.count, using: &generator)
            let bufferSize = [1, 4096, 256 << 10][round % 3]
            let ours = isal(stream, cuts: cuts, bufferSize: bufferSize)
            let reference = zlib(stream, cuts: cuts)
            #expect(reference.error == nil, "round \(round): zlib \(reference)")
            #expect(ours.error == nil, "round \(round): ISA-L \(ours)")
            let (oursRight, referenceRight) = (ours.output == expected, reference.output == expected)
            #expect(oursRight, "round \(round)")
            #expect(ours.members == count, "round \(round)")
            #expect(referenceRight)
        }
    }

    /// Every cut of a two-member stream: truncation at each byte is `truncated` at the
    /// end, as with zlib; damaged trailers and trailing bytes give zlib's errors.
    @Test func agreesWithZlibOnTruncationAndTrailers() {
        let first = ZlibGzip.member(
            Array("first member\n".utf8), header: ZlibGzip.Header(name: Array("a".utf8), headerCRC: true))
        let second = ZlibGzip.member(TestData.logLines(count: 3000), level: 1, header: ZlibGzip.Header(extra: [1, 2]))
        let stream = first + second
        for length in 0..<stream.count {
            let cut = Array(stream.prefix(length))
            let ours = isal(cut, cuts: [length / 2])
            let reference = zlib(cut, cuts: [length / 2])
            if length == first.count {
                #expect(ours.error == nil && reference.error == nil)
            } else {
                #expect(ours.error == .truncated(offset: length), "\(length): \(ours)")
                #expect(reference.error == .truncated(offset: length), "\(length): \(reference)")
            }
        }
        // A flipped CRC, a flipped ISIZE, in either member.
        for (offset, expected) in [
            (first.count - 8, GzipError.crcMismatch(member: 0, offset: 0)),
            (first.count - 1, GzipError.lengthMismatch(member: 0, offset: 0)),
            (stream.count - 5, GzipError.crcMismatch(member: 1, offset: first.count)),
            (stream.count - 4, GzipError.lengthMismatch(member: 1, offset: first.count)),
        ] {
            var damaged = stream
            damaged[offset] ^= 0x10
            for cuts in [[], [offset], [offset + 1], Array(stride(from: 1, to: stream.count, by: 3))] {
                #expect(isal(damaged, cuts: cuts).error == expected)
                #expect(zlib(damaged, cuts: cuts).error == expected)
            }
        }
        for tail: [UInt8] in [Array("garbage".utf8), [0x1f], [0x1f, 0x8c], [0, 0, 0], [0, 0, 1]] {
            let ours = isal(stream + tail, cuts: [stream.count - 1, stream.count + 1])
            let reference = zlib(stream + tail, cuts: [stream.count - 1, stream.count + 1])
            #expect(damageClass(ours.error) == damageClass(reference.error), "\(tail): \(ours) vs \(reference)")
            let same = ours.output == reference.output
            #expect(same)
            switch tail {
            case [0, 0, 0]: #expect(ours.error == nil)
            case [0, 0, 1]: #expect(ours.error == .trailingGarbage(offset: stream.count + 2))
            case [0x1f]: #expect(ours.error == .truncated(offset: stream.count + 1))
            default: #expect(ours.error == .trailingGarbage(offset: stream.count), "\(tail): \(ours)")
            }
        }
    }

    /// Headers gzip rejects: the same errors as before (or more precise).
    @Test func rejectsBadHeaders() {
        let member = ZlibGzip.member(Array("x".utf8), header: ZlibGzip.Header(name: Array("n".utf8), headerCRC: true))
        var badCRC = member
        badCRC[member.count - 8 - 3 - 1] ^= 1  // the header CRC's high byte (before the deflate data)
        var method = member
        method[2] = 7
        var flags = member
        flags[3] |= 0x20
        let cases: [([UInt8], GzipError)] = [
            (Array("not gzip at all".utf8), .notGzip(offset: 0)),
            (method, .unsupportedMethod(7, offset: 0)),
            (flags, .badHeader("reserved flag bits are set", offset: 0)),
            (member + method, .unsupportedMethod(7, offset: member.count)),
        ]
        for (stream, expected) in cases {
            for cuts in [[], [1], [3], Array(1..<stream.count)] {
                #expect(isal(stream, cuts: cuts).error == expected, "\(expected)")
                #expect(damageClass(zlib(stream, cuts: cuts).error) == damageClass(expected))
            }
        }
        // Find where the header CRC is, and flip it.
        let headerLength = ZlibGzip.Header(name: Array("n".utf8), headerCRC: true).bytes.count
        badCRC = member
        badCRC[headerLength - 1] ^= 1
        #expect(isal(badCRC, cuts: []).error == .badHeader("header CRC mismatch", offset: 0))
        #expect(damageClass(zlib(badCRC, cuts: []).error) == "header")
    }

    /// Random damage to deflate data: whenever zlib rejects a stream ISA-L does too,
    /// and whatever both accept inflates to the same bytes.
    @Test func agreesWithZlibOnCorruptData() {
        var generator = SplitMix64(seed: 0xbad)
        let data = mixedData(150_000, seed: 5)
        let clean = ZlibGzip.member(data, level: 6) + ZlibGzip.member(Array(data.prefix(20_000)), level: 1)
        for round in 0..<300 {
            var stream = clean
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: 10..<stream.count, using: &generator)
                if round % 2 == 0 {
                    stream[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
                } else {
                    stream[position] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            let cuts = randomCuts(stream.count, using: &generator)
            let ours = isal(stream, cuts: cuts)
            let reference = zlib(stream, cuts: cuts)
            #expect(damageClass(ours.error) == damageClass(reference.error), "round \(round): \(ours) vs \(reference)")
            if ours.error == nil && reference.error == nil {
                let same = ours.output == reference.output
                #expect(same, "round \(round)")
            }
        }
    }

    /// Files from the gzip, igzip and pigz programs (those installed), single and
    /// concatenated, fed in random pieces.
    @Test func readsOtherToolsFiles() async throws {
        var generator = SplitMix64(seed: 0x919)
        let data = mixedData(600_000, seed: 9)
        var files: [[UInt8]] = []
        for command in [
            ["gzip", "-1", "-c"], ["gzip", "-9", "-c", "-n"], ["igzip", "-1", "-c"], ["igzip", "-3", "-c"],
            ["pigz", "-c", "-p", "2", "-b", "128"], ["pigz", "-11", "-c", "-p", "1"],
        ] {
            let result = try await ExternalTools.run(command, input: data)
            guard result.status == 0 else { continue }  // not installed
            files.append(result.output)
        }
        #expect(files.count >= 2)
        for (number, file) in files.enumerated() {
            for stream in [file, file + files[(number + 1) % files.count]] {
                let cuts = randomCuts(stream.count, using: &generator)
                let ours = isal(stream, cuts: cuts)
                let reference = zlib(stream, cuts: cuts)
                #expect(ours.error == nil, "\(number): \(ours)")
                let same = ours.output == reference.output
                #expect(same)
                #expect(ours.members == reference.members)
                #expect(ours.output.count == data.count * (stream.count == file.count ? 1 : 2))
            }
        }
    }

    /// The zero-copy call: output straight into the caller's buffer, in pieces of any
    /// size, with output left inside the inflater when the buffer fills.
    @Test func inflatesIntoCallerBuffers() throws {
        let data = mixedData(300_000, seed: 11)
        let stream = ZlibGzip.member(data, level: 9) + ZlibGzip.member([], level: 1) + ZlibGzip.member(data, level: 1)
        for room in [1, 1000, 65536, 1 << 20] {
            let inflater = GzipStreamInflater()
            var output: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: room)
            try stream.withUnsafeBytes { raw in
                var position = 0
                while true {
                    let (consumed, produced) = try buffer.withUnsafeMutableBytes {
                        try inflater.inflate(UnsafeRawBufferPointer(rebasing: raw[position...]), into: $0)
                    }
                    position += consumed
                    output += buffer[0..<produced]
                    if position == raw.count && produced < room { break }
                }
            }
            try inflater.finish()
            let right = output == data + data
            #expect(right, "room \(room)")
            #expect(inflater.members == 3)
            #expect(inflater.bytesIn == stream.count)
            #expect(inflater.bytesOut == 2 * data.count)
        }
    }

    /// A stream started part way into a file names the file's offsets and members in its
    /// errors, accepts zero padding after earlier members, and can stop at each member's
    /// end so that its caller sees where the next one starts.
    @Test func startsPartWayAndStopsAfterEachMember() throws {
        let first = ZlibGzip.member(mixedData(50_000, seed: 3), level: 6)
        let second = ZlibGzip.member(mixedData(70_000, seed: 4), level: 1)
        let inflater = GzipStreamInflater(offset: 1000, members: 4)
        inflater.stopsAfterEachMember = true
        var ends: [Int] = []
        var output = [UInt8](repeating: 0, count: 200_000)
        var produced = 0
        try (first + second + [0, 0]).withUnsafeBytes { raw in
            var position = 0
            while position < raw.count {
                let members = inflater.members
                let (consumed, made) = try output.withUnsafeMutableBytes {
                    try inflater.inflate(
                        UnsafeRawBufferPointer(rebasing: raw[position...]),
                        into: UnsafeMutableRawBufferPointer(rebasing: $0[produced...]))
                }
                position += consumed
                produced += made
                if inflater.members > members { ends.append(inflater.bytesIn) }
            }
        }
        try inflater.finish()
        #expect(ends == [1000 + first.count, 1000 + first.count + second.count])
        #expect(inflater.members == 6)
        #expect(Array(output[0..<produced]) == mixedData(50_000, seed: 3) + mixedData(70_000, seed: 4))

        let cut = GzipStreamInflater(offset: 1000, members: 4)
        #expect(throws: GzipError.truncated(offset: 1000 + first.count - 1)) {
            try first.dropLast().withUnsafeBytes { try cut.feed($0) { _ in } }
            try cut.finish()
        }
        var damaged = second
        damaged[damaged.count - 8] ^= 1
        let crc = GzipStreamInflater(offset: 1000, members: 4)
        #expect(throws: GzipError.crcMismatch(member: 5, offset: 1000 + first.count)) {
            try (first + damaged).withUnsafeBytes { try crc.feed($0) { _ in } }
        }
    }
}
