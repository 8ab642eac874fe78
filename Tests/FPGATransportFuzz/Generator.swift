import FPGATransport

/// Builds the cases: streams of valid frames (messages, and frames with random bodies), then
/// often a bad ending (a length over the limit, a cut frame, garbage), and for half of them
/// mutations (bit flips, changed bytes, insertions, deletions, truncations, length fields set
/// at or over the limit, spliced ranges).
enum Generator {
    /// Body limits a case is read with: tiny ones reach their edges cheaply; 64 KiB is the
    /// limit before a handshake, 72 MiB the default.
    static let limitChoices = [0, 1, 16, 300, 4096, 65_536, WireLimits.default.maxBodyLength]

    static func make(using random: inout FuzzRandom) -> FuzzCase {
        let limitIndex =
            random.chance(1, in: 2)
            ? Int.random(in: 4..<limitChoices.count, using: &random)
            : Int.random(in: 0..<limitChoices.count, using: &random)
        let limits = WireLimits(maxBodyLength: limitChoices[limitIndex])
        var fuzzCase = FuzzCase(stream: [], limits: limits, raise: nil, frameCount: 0, expectedFrames: [])
        let raised =
            random.chance(1, in: 3) && limitIndex + 1 < limitChoices.count
            ? WireLimits(
                maxBodyLength: limitChoices[Int.random(in: (limitIndex + 1)..<limitChoices.count, using: &random)])
            : nil

        let count = [1, 1, 2, 2, 3, 4].randomElement(using: &random)!
        var headerOffsets: [Int] = []
        for index in 0..<(count - 1) {
            headerOffsets.append(fuzzCase.stream.count)
            appendValidFrame(to: &fuzzCase, index: index, using: &random)
        }
        if let raised {
            fuzzCase.raise = (
                Int.random(in: 0...(fuzzCase.stream.count + 2 * FrameHeader.size), using: &random), raised
            )
        }
        headerOffsets.append(fuzzCase.stream.count)
        appendLastPiece(to: &fuzzCase, index: count - 1, using: &random)
        fuzzCase.frameCount = count

        if random.chance(1, in: 2) {
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutate(&fuzzCase.stream, headerOffsets: headerOffsets, limit: fuzzCase.largestLimit, using: &random)
            }
            fuzzCase.expectedFrames = nil
            fuzzCase.expectedEnd = nil
            fuzzCase.messages = [:]
        }
        return fuzzCase
    }

    // MARK: Valid frames

    /// A frame any limit in force accepts (its body is at most the first limit).
    private static func appendValidFrame(to fuzzCase: inout FuzzCase, index: Int, using random: inout FuzzRandom) {
        let limit = fuzzCase.limits.maxBodyLength
        if random.chance(3, in: 5) {
            let (message, requestID) = randomMessage(using: &random)
            // Valid messages always encode.
            let frame = try! OutgoingFrame.message(message, requestID: requestID)
            if frame.bodyLength <= limit {
                let bytes = frame.bytes
                fuzzCase.stream += bytes
                fuzzCase.expectedFrames?.append(
                    Frame(
                        header: FrameHeader(type: message.type, bodyLength: frame.bodyLength, requestID: requestID),
                        body: Array(bytes[FrameHeader.size...])))
                fuzzCase.messages[index] = message
                return
            }
        }
        // Bodies at the limit only up to 64 KiB: a header at the 72 MiB limit is tried
        // without its body (appendLastPiece), not built.
        let largest = min(limit, 65_536)
        let length: Int
        switch Int.random(in: 0..<10, using: &random) {
        case 0: length = 0
        case 1: length = largest
        case 2: length = max(0, largest - 1)
        case 3: length = Int.random(in: 0...largest, using: &random)
        default: length = Int.random(in: 0...min(limit, 256), using: &random)
        }
        let header = FrameHeader(
            type: MessageType.allCases.randomElement(using: &random)!, bodyLength: length,
            requestID: random.chance(1, in: 2) ? 0 : random.next())
        let body = random.bytes(length)
        fuzzCase.stream += header.encoded() + body
        fuzzCase.expectedFrames?.append(Frame(header: header, body: body))
    }

    /// A valid frame, or a bad ending: a header over the limit in force, a frame cut short,
    /// a header announcing exactly the limit with no body after it, or garbage.
    private static func appendLastPiece(to fuzzCase: inout FuzzCase, index: Int, using random: inout FuzzRandom) {
        let headerEnd = fuzzCase.stream.count + FrameHeader.size
        let limit = fuzzCase.limits(forHeaderEndingAt: headerEnd).maxBodyLength
        switch Int.random(in: 0..<10, using: &random) {
        case 0, 1:  // Over the limit, by one or by more, with some of a body after it.
            let length =
                random.chance(1, in: 2)
                ? limit + 1 : Int.random(in: (limit + 1)...Int(UInt32.max), using: &random)
            let header = FrameHeader(
                type: MessageType.allCases.randomElement(using: &random)!, bodyLength: length, requestID: 1)
            fuzzCase.stream += header.encoded() + random.bytes(Int.random(in: 0...32, using: &random))
            fuzzCase.expectedEnd = .error(.bodyTooLarge(length: length, limit: limit))
        case 2:  // Exactly the limit, announced, and the body never comes.
            let header = FrameHeader(type: .run, bodyLength: limit, requestID: 1)
            fuzzCase.stream += header.encoded()
            fuzzCase.expectedEnd = limit == 0 ? .buffered(0) : .buffered(FrameHeader.size)
            if limit == 0 { fuzzCase.expectedFrames?.append(Frame(header: header, body: [])) }
        case 3:  // A valid frame cut short.
            let start = fuzzCase.stream.count
            appendValidFrame(to: &fuzzCase, index: index, using: &random)
            let whole = fuzzCase.stream.count - start
            let kept = Int.random(in: 0..<whole, using: &random)
            fuzzCase.stream.removeLast(whole - kept)
            fuzzCase.expectedFrames?.removeLast()
            fuzzCase.messages[index] = nil
            fuzzCase.expectedEnd = .buffered(kept)
        case 4:  // Garbage: what it decodes to is the oracle's to say.
            fuzzCase.stream += random.bytes(Int.random(in: 1...48, using: &random))
            fuzzCase.expectedFrames = nil
        default:
            appendValidFrame(to: &fuzzCase, index: index, using: &random)
            fuzzCase.expectedEnd = .buffered(0)
        }
    }

    // MARK: Messages

    private static let characters: [String] = ["a", "b", "Z", "0", "-", " ", "\u{0}", "é", "α", "✓", "😀"]

    private static func randomString(_ maxCount: Int, using random: inout FuzzRandom) -> String {
        String(
            (0..<Int.random(in: 0...maxCount, using: &random)).map { _ in characters.randomElement(using: &random)! }
                .joined())
    }

    private static func randomCode(using random: inout FuzzRandom) -> WireErrorCode {
        random.chance(4, in: 5)
            ? WireErrorCode.known.randomElement(using: &random)!
            : WireErrorCode(rawValue: UInt16.random(in: 0...UInt16.max, using: &random))
    }

    /// A random valid message and the request id it travels with.
    static func randomMessage(using random: inout FuzzRandom) -> (WireMessage, UInt64) {
        let requestID = UInt64.random(in: 1...UInt64.max, using: &random)
        switch MessageType.allCases.randomElement(using: &random)! {
        case .hello:
            return (.hello(Hello(clientNonce: random.bytes(32), clientName: randomString(24, using: &random))), 0)
        case .challenge:
            return (
                .challenge(
                    Challenge(
                        workerNonce: random.bytes(32), authRequired: random.chance(1, in: 2),
                        workerProof: random.bytes(32))), 0
            )
        case .auth:
            return (.auth(Auth(clientProof: random.bytes(32))), 0)
        case .welcome:
            var indices = Set<UInt16>()
            var devices: [Welcome.Device] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let index = UInt16.random(in: 0...UInt16.max, using: &random)
                guard indices.insert(index).inserted else { continue }
                let programs = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                    Welcome.Program(
                        name: randomString(8, using: &random),
                        capacity: UInt32.random(in: 1...UInt32.max, using: &random),
                        kernels: (0..<Int.random(in: 0...2, using: &random)).map { _ in
                            Welcome.Kernel(
                                name: randomString(12, using: &random),
                                computeUnits: UInt16.random(in: 0...UInt16.max, using: &random))
                        })
                }
                devices.append(
                    Welcome.Device(
                        index: index, name: randomString(16, using: &random),
                        kind: [.simulated, .xrt, Welcome.DeviceKind(rawValue: randomString(6, using: &random))]
                            .randomElement(using: &random)!,
                        capacity: UInt32.random(in: 0...UInt32.max, using: &random), programs: programs))
            }
            let welcome = Welcome(
                workerID: randomString(16, using: &random),
                maxBodyLength: UInt32.random(in: 0...UInt32.max, using: &random),
                heartbeatIntervalMilliseconds: UInt32.random(in: 1...UInt32.max, using: &random), devices: devices)
            return (.welcome(welcome), 0)
        case .run:
            let request = RunRequest(
                deviceIndex: UInt16.random(in: 0...UInt16.max, using: &random),
                jobKind: randomString(16, using: &random),
                parameters: random.bytes(Int.random(in: 0...24, using: &random)))
            let payload = random.bytes(
                random.chance(1, in: 8)
                    ? Int.random(in: 0...8192, using: &random) : Int.random(in: 0...128, using: &random))
            return (.run(request, payload: payload[...]), requestID)
        case .result:
            if random.chance(1, in: 2) {
                return (
                    .result(.success, payload: random.bytes(Int.random(in: 0...256, using: &random))[...]), requestID
                )
            }
            return (
                .result(
                    .failure(code: randomCode(using: &random), message: randomString(32, using: &random)), payload: []),
                requestID
            )
        case .cancel:
            return (.cancel, requestID)
        case .status:
            return (.status, requestID)
        case .statusReport:
            let devices = (0..<Int.random(in: 0...3, using: &random)).map { index in
                StatusReport.Device(
                    index: UInt16(index), name: randomString(8, using: &random), kind: randomString(6, using: &random),
                    program: random.chance(1, in: 2) ? randomString(8, using: &random) : nil,
                    computeUnits: UInt32.random(in: 0...UInt32.max, using: &random), completed: random.next(),
                    inputBytes: random.next(), busyNanoseconds: random.next(),
                    problem: random.chance(1, in: 4) ? randomString(16, using: &random) : nil,
                    history: (0..<Int.random(in: 0...8, using: &random)).map { _ in
                        StatusReport.Sample(
                            inputBytes: random.next(), completed: UInt32.random(in: 0...UInt32.max, using: &random),
                            busy: UInt16.random(in: 0...StatusReport.busyScale, using: &random))
                    })
            }
            return (.statusReport(StatusReport(devices: devices)), requestID)
        case .heartbeat:
            return (.heartbeat(Heartbeat(timestampMilliseconds: random.next())), 0)
        case .goodbye:
            return (.goodbye(Goodbye(reason: randomCode(using: &random), message: randomString(32, using: &random))), 0)
        case .error:
            return (
                .error(
                    ProtocolErrorMessage(code: randomCode(using: &random), message: randomString(32, using: &random))),
                0
            )
        }
    }

    // MARK: Mutations

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    private static func mutate(
        _ bytes: inout [UInt8], headerOffsets: [Int], limit: Int, using random: inout FuzzRandom
    ) {
        let header = headerOffsets.randomElement(using: &random)!
        switch Int.random(in: 0..<12, using: &random) {
        case 0 where !bytes.isEmpty:  // Flip one bit.
            bytes[Int.random(in: bytes.indices, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1 where !bytes.isEmpty:  // Replace one byte.
            bytes[Int.random(in: bytes.indices, using: &random)] = UInt8.random(in: 0...255, using: &random)
        case 2:  // Insert bytes.
            bytes.insert(
                contentsOf: random.bytes(Int.random(in: 1...4, using: &random)),
                at: Int.random(in: 0...bytes.count, using: &random))
        case 3 where !bytes.isEmpty:  // Delete bytes.
            let at = Int.random(in: bytes.indices, using: &random)
            bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...4, using: &random)))
        case 4:  // Truncate.
            bytes.removeSubrange(Int.random(in: 0...bytes.count, using: &random)...)
        case 5...6 where header + 8 <= bytes.count:  // A header's length: at, around or over the limit.
            let current = (4..<8).reduce(0) { $0 | Int(bytes[header + $1]) << (8 * ($1 - 4)) }
            let length: UInt32 =
                switch Int.random(in: 0..<6, using: &random) {
                case 0: UInt32(min(limit, Int(UInt32.max)))
                case 1: UInt32(min(limit + 1, Int(UInt32.max)))
                case 2: UInt32(max(0, limit - 1))
                case 3: UInt32.max
                case 4: UInt32(truncatingIfNeeded: current + Int.random(in: -8...8, using: &random))
                default: UInt32.random(in: 0...UInt32.max, using: &random)
                }
            bytes.replaceSubrange((header + 4)..<(header + 8), with: littleEndian(length))
        case 7 where header + 4 <= bytes.count:  // A header's type or flags.
            bytes[header + Int.random(in: 2...3, using: &random)] =
                [0, 1, 10, 11, 0x80, 0xff, UInt8.random(in: 0...255, using: &random)].randomElement(using: &random)!
        case 8 where bytes.count > 18:  // A u16 inside a body: a string length or a count.
            let at = Int.random(in: 16..<(bytes.count - 1), using: &random)
            let value: UInt16 = [0, 1, 0xff, 0x1000, 0x1001, 0xffff].randomElement(using: &random)!
            bytes.replaceSubrange(at..<(at + 2), with: littleEndian(value))
        case 9 where bytes.count > 20:  // A u32 inside a body: a byte string length.
            let at = Int.random(in: 16..<(bytes.count - 3), using: &random)
            let value: UInt32 = [0, 1, 0xffff_ffff, UInt32.random(in: 0...UInt32.max, using: &random)]
                .randomElement(using: &random)!
            bytes.replaceSubrange(at..<(at + 4), with: littleEndian(value))
        case 10 where !bytes.isEmpty:  // Copy a range elsewhere.
            let start = Int.random(in: bytes.indices, using: &random)
            let piece = Array(bytes[start..<min(bytes.count, start + Int.random(in: 1...64, using: &random))])
            bytes.insert(contentsOf: piece, at: Int.random(in: 0...bytes.count, using: &random))
        default:  // Append garbage.
            bytes += random.bytes(Int.random(in: 1...16, using: &random))
        }
    }
}
