import FPGATransport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Fuzzes `FrameDecoder`, the decoder every connection reads its socket through, with seeded
/// and therefore repeatable cases:
///
///     fpga-transport-fuzz [--frames N] [--seed S] [--case K]
///
/// Each case is a stream of valid frames, bad endings and mutations (see `Generator`). It is
/// read as a connection reads it, with whole reads, 1-byte reads and reads of random sizes,
/// and with `feed(_:)`; every way must give the same frames, byte for byte, and end the same
/// way (the same `WireError`, or the same bytes of a frame not complete) as a one-pass
/// reference reading. Streams that were not mutated must give back the frames they were
/// built from. Every frame is decoded as a message, and a message that decodes must encode
/// back to the frame's bytes. `--case K` runs case K alone and prints it. Prints one summary
/// line and exits with 1 if anything failed.
@main
struct TransportFuzz {
    struct Options {
        var frames = 1_000_000
        var seed: UInt64 = 1
        var onlyCase: Int?
    }

    struct Tally {
        var cases = 0
        var frames = 0
        var validFrames = 0
        var rejected = 0
        var incomplete = 0
        var messages = 0
        var malformedBodies = 0
        var failedCases = 0
    }

    static func main() {
        let options = parseOptions()
        let clock = ContinuousClock()
        let start = clock.now
        var tally = Tally()
        var index = options.onlyCase ?? 0
        while options.onlyCase != nil ? tally.cases == 0 : tally.frames < options.frames {
            var random = FuzzRandom(seed: options.seed, case: index)
            let fuzzCase = Generator.make(using: &random)
            let failures = run(fuzzCase, using: &random, tally: &tally, verbose: options.onlyCase != nil)
            if !failures.isEmpty {
                tally.failedCases += 1
                if tally.failedCases <= 10 { report(fuzzCase, index: index, seed: options.seed, failures: failures) }
            }
            tally.cases += 1
            tally.frames += fuzzCase.frameCount
            index += 1
        }
        let elapsed = clock.now - start
        print(
            "fuzz: \(tally.frames) frames, \(tally.validFrames) valid, \(tally.rejected) rejected, "
                + "\(tally.failedCases) failures (seed \(options.seed), \(tally.cases) streams, "
                + "\(tally.incomplete) ending mid-frame, \(tally.messages) messages decoded, "
                + "\(tally.malformedBodies) malformed bodies, \(elapsed.formatted))")
        exit(tally.failedCases == 0 ? 0 : 1)
    }

    /// Reads one case every way and checks the results; returns what went wrong.
    static func run(_ fuzzCase: FuzzCase, using random: inout FuzzRandom, tally: inout Tally, verbose: Bool)
        -> [String]
    {
        var failures: [String] = []
        let reference = referenceOutcome(fuzzCase)
        if let expected = fuzzCase.expectedFrames, reference.frames != expected {
            failures.append(
                "the reference reading gave \(reference.frames.count) frames, not the \(expected.count) built")
        }
        if let expectedEnd = fuzzCase.expectedEnd, reference.end != expectedEnd {
            failures.append("the reference reading ends with \(reference.end), not \(expectedEnd)")
        }
        var splits: [Split] = [.whole, .random(max: [2, 7, 64, 4096].randomElement(using: &random)!)]
        splits.append(fuzzCase.stream.count <= 600 ? .single : .random(max: 3))
        for split in splits {
            let outcome = decodeAsConnection(fuzzCase, split: split, using: &random, failures: &failures)
            if outcome != reference {
                failures.append("\(split): \(summary(outcome)), the reference: \(summary(reference))")
            }
        }
        if fuzzCase.raise == nil {
            let maxPiece = [1, 5, 100, 100_000].randomElement(using: &random)!
            let fed = decodeByFeeding(fuzzCase, maxPiece: maxPiece, using: &random)
            let sameFrames =
                if case .error = reference.end {
                    fed.frames.count <= reference.frames.count
                        && Array(reference.frames.prefix(fed.frames.count)) == fed.frames
                } else {
                    fed.frames == reference.frames
                }
            if !sameFrames || fed.end != reference.end {
                failures.append(
                    "feed in pieces of 1...\(maxPiece): \(summary(fed)), the reference: \(summary(reference))")
            }
        }
        for (index, frame) in reference.frames.enumerated() {
            checkMessage(in: frame, expected: fuzzCase.messages[index], tally: &tally, failures: &failures)
        }
        tally.validFrames += reference.frames.count
        switch reference.end {
        case .error: tally.rejected += 1
        case .buffered(let count) where count > 0: tally.incomplete += 1
        case .buffered: break
        }
        if verbose {
            print("stream of \(fuzzCase.stream.count) bytes: \(hex(fuzzCase.stream))")
            print("limits \(fuzzCase.limits.maxBodyLength), raised: \(String(describing: fuzzCase.raise))")
            print("reference: \(summary(reference))")
        }
        return failures
    }

    /// Decodes the frame's message; one that decodes must encode back to the frame's bytes,
    /// and a frame built from a message must give that message back.
    static func checkMessage(in frame: Frame, expected: WireMessage?, tally: inout Tally, failures: inout [String]) {
        let decoded = Result { () throws(WireError) in try frame.decodeMessage() }
        switch decoded {
        case .success(let message):
            tally.messages += 1
            if let expected, expected != message { failures.append("\(expected.type) decoded as \(message)") }
            do {
                let again = try OutgoingFrame.message(message, requestID: frame.header.requestID)
                if again.head[2] != frame.header.type.rawValue || Array(again.head[16...]) + again.payload != frame.body
                {
                    failures.append("\(message.type) does not encode back to its bytes")
                }
            } catch {
                failures.append("a decoded \(message.type) does not encode: \(error)")
            }
        case .failure(let error):
            tally.malformedBodies += 1
            if let expected { failures.append("\(expected.type) built as a valid message does not decode: \(error)") }
        }
    }

    static func summary(_ outcome: Outcome) -> String {
        "\(outcome.frames.count) frames (\(outcome.frames.map { "\($0.header.type) \($0.header.bodyLength)" })), \(outcome.end)"
    }

    static func report(_ fuzzCase: FuzzCase, index: Int, seed: UInt64, failures: [String]) {
        print(
            "FAILED case \(index) (replay: fpga-transport-fuzz --seed \(seed) --case \(index)), "
                + "\(fuzzCase.stream.count) bytes, limits \(fuzzCase.limits.maxBodyLength)"
                + (fuzzCase.raise.map { ", raised to \($0.limits.maxBodyLength) at byte \($0.offset)" } ?? ""))
        for failure in failures.prefix(5) { print("  \(failure)") }
        print("  stream: \(hex(fuzzCase.stream.prefix(64)))\(fuzzCase.stream.count > 64 ? " ..." : "")")
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
    }

    static func parseOptions() -> Options {
        var options = Options()
        var arguments = CommandLine.arguments.dropFirst()
        func usage(_ problem: String) -> Never {
            print("fpga-transport-fuzz: \(problem)\nusage: fpga-transport-fuzz [--frames N] [--seed S] [--case K]")
            exit(2)
        }
        func number<T: FixedWidthInteger>(_ option: String, _ text: String) -> T {
            guard let value = T(text), value >= 0 else { usage("\(option) \(text): not a number") }
            return value
        }
        while let argument = arguments.popFirst() {
            guard let value = arguments.popFirst() else { usage("\(argument) needs a value") }
            switch argument {
            case "--frames": options.frames = number(argument, value)
            case "--seed": options.seed = number(argument, value)
            case "--case": options.onlyCase = number(argument, value) as Int
            default: usage("unknown option \(argument)")
            }
        }
        return options
    }
}

extension Duration {
    /// Seconds with one decimal, without Foundation.
    fileprivate var formatted: String {
        let tenths = components.seconds * 10 + components.attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
