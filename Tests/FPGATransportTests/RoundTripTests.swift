import FPGATransport
import Testing

@Suite("messages survive encoding and decoding")
struct RoundTripTests {
    @Test func everyMessageRoundTrips() throws {
        for (message, requestID) in sampleMessages {
            let outgoing = try OutgoingFrame.message(message, requestID: requestID)
            let frames = try decodeFrames(outgoing.bytes)
            try #require(frames.count == 1)
            let frame = frames[0]
            #expect(frame.header.type == message.type)
            #expect(frame.header.bodyLength == outgoing.bodyLength)
            #expect(
                frame.header.requestID
                    == ([.run, .result, .cancel, .status, .statusReport].contains(message.type) ? requestID : 0))
            #expect(try frame.decodeMessage() == message)
        }
    }

    @Test func everyTypeIsSampled() {
        #expect(Set(sampleMessages.map(\.message.type)) == Set(MessageType.allCases))
    }

    @Test func specificConstructorsMatchTheGenericOne() throws {
        let payload: ArraySlice<UInt8> = [9, 8, 7]
        let request = RunRequest(deviceIndex: 2, jobKind: "gzip-compress", parameters: [1])
        #expect(
            try OutgoingFrame.run(id: 42, request, payload: payload).bytes
                == OutgoingFrame.message(.run(request, payload: payload), requestID: 42).bytes)
        #expect(
            OutgoingFrame.error(code: .timeout, message: "slow")
                == .error(ProtocolErrorMessage(code: .timeout, message: "slow")))
        #expect(try OutgoingFrame.cancel(id: 3).bytes == rawFrame(7, body: [], requestID: 3))
        #expect(
            OutgoingFrame.heartbeat(Heartbeat(timestampMilliseconds: 1)).bytes
                == rawFrame(8, body: [1, 0, 0, 0, 0, 0, 0, 0]))
    }

    @Test func payloadStaysOutOfTheHead() throws {
        let payload = ArraySlice([UInt8](repeating: 0x5a, count: 1000))
        let frame = try OutgoingFrame.run(
            id: 1, RunRequest(deviceIndex: 0, jobKind: "j", parameters: [1, 2]), payload: payload)
        // Header, u16 device, string "j", u32 length and 2 parameter bytes.
        #expect(frame.head.count == 16 + 2 + 3 + 4 + 2)
        #expect(frame.payload == payload)
        #expect(frame.bodyLength == 11 + 1000)
        #expect(Array(frame.head[4..<8]) == littleEndian(UInt32(1011)))
    }

    @Test func payloadIsASliceOfTheBody() throws {
        for (message, requestID) in sampleMessages {
            guard message.type == .run || message.type == .result else { continue }
            let frame = try #require(try decodeFrames(OutgoingFrame.message(message, requestID: requestID).bytes).first)
            let payload: ArraySlice<UInt8>
            switch try frame.decodeMessage() {
            case .run(_, let decoded): payload = decoded
            case .result(.success, let decoded): payload = decoded
            default: continue
            }
            #expect(payload.endIndex == frame.body.endIndex)
            let bodyBase = frame.body.withUnsafeBufferPointer { $0.baseAddress }
            let payloadBase = payload.withUnsafeBufferPointer { $0.baseAddress }
            #expect(payloadBase == bodyBase.map { $0 + payload.startIndex }, "the payload is a copy")
        }
    }

    @Test func headerLayout() {
        let header = FrameHeader(type: .run, bodyLength: 0x0102_0304, requestID: 0x1122_3344_5566_7788)
        #expect(header.encoded() == bytes(hex: "4657 05 00 04030201 8877665544332211"))
        let decoded = header.encoded().withUnsafeBytes {
            try? FrameHeader.decode($0, limits: WireLimits(maxBodyLength: Int(UInt32.max)))
        }
        #expect(decoded == header)
    }

    /// The worked example of the WireProtocol article.
    @Test func helloExampleOfTheSpecification() throws {
        let frame = try OutgoingFrame.hello(Hello(clientNonce: clientNonce, clientName: "client-1"))
        let expected = bytes(
            hex: """
                46 57 01 00 2c 00 00 00 00 00 00 00 00 00 00 00
                03 00
                00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
                08 00 63 6c 69 65 6e 74 2d 31
                """)
        #expect(frame.bytes == expected)
    }

    @Test func longFreeTextIsCutAtACharacterBoundary() throws {
        // 2 + 3 × 1500 bytes: the cut at 4096 falls inside a euro sign, so 1364 of them stay.
        let message = "ab" + String(repeating: "€", count: 1500)
        for outgoing in [
            OutgoingFrame.goodbye(Goodbye(reason: .normalClosure, message: message)),
            OutgoingFrame.error(code: .malformedFrame, message: message),
            try OutgoingFrame.result(id: 1, .failure(code: .deviceFailed, message: message)),
        ] {
            let frame = try #require(try decodeFrames(outgoing.bytes).first)
            let text: String
            switch try frame.decodeMessage() {
            case .goodbye(let goodbye): text = goodbye.message
            case .error(let error): text = error.message
            case .result(.failure(_, let decoded), _): text = decoded
            default:
                Issue.record("unexpected message")
                continue
            }
            #expect(text == "ab" + String(repeating: "€", count: 1364))
        }
        // Exactly 4096 bytes are kept whole.
        let exact = String(repeating: "x", count: 4096)
        let frame = try #require(
            try decodeFrames(OutgoingFrame.goodbye(Goodbye(reason: .timeout, message: exact)).bytes).first)
        #expect(try frame.decodeMessage() == .goodbye(Goodbye(reason: .timeout, message: exact)))
    }

    @Test func encodingRejectsWhatTheWireCannotCarry() {
        let long = String(repeating: "n", count: 4097)
        #expect(throws: WireError.stringTooLong("HELLO clientName", length: 4097)) {
            try OutgoingFrame.hello(Hello(clientNonce: clientNonce, clientName: long))
        }
        #expect(throws: WireError.malformed("HELLO clientNonce must be 32 bytes, not 31")) {
            try OutgoingFrame.hello(Hello(clientNonce: Array(clientNonce.dropLast()), clientName: "c"))
        }
        #expect(throws: WireError.malformed("CHALLENGE workerProof must be 32 bytes, not 0")) {
            try OutgoingFrame.challenge(Challenge(workerNonce: workerNonce, authRequired: true, workerProof: []))
        }
        #expect(throws: WireError.malformed("AUTH clientProof must be 32 bytes, not 33")) {
            try OutgoingFrame.auth(Auth(clientProof: [UInt8](repeating: 0, count: 33)))
        }
        #expect(throws: WireError.malformed("RUN has request id 0")) {
            try OutgoingFrame.run(id: 0, RunRequest(deviceIndex: 0, jobKind: "j"), payload: [])
        }
        #expect(throws: WireError.malformed("RESULT has request id 0")) { try OutgoingFrame.result(id: 0, .success) }
        #expect(throws: WireError.malformed("CANCEL has request id 0")) { try OutgoingFrame.cancel(id: 0) }
        #expect(throws: WireError.malformed("a failed RESULT carries no payload")) {
            try OutgoingFrame.result(id: 1, .failure(code: .cancelled, message: ""), payload: [1])
        }
        #expect(throws: WireError.stringTooLong("RUN jobKind", length: 4097)) {
            try OutgoingFrame.run(id: 1, RunRequest(deviceIndex: 0, jobKind: long), payload: [])
        }
        var duplicate = sampleWelcome
        duplicate.devices[1].index = 0
        #expect(throws: WireError.malformed("WELCOME lists device index 0 twice")) {
            try OutgoingFrame.welcome(duplicate)
        }
        var silent = sampleWelcome
        silent.heartbeatIntervalMilliseconds = 0
        #expect(throws: WireError.malformed("WELCOME heartbeat interval is 0")) { try OutgoingFrame.welcome(silent) }
        var crowded = sampleWelcome
        crowded.devices[0].programs[0].kernels = Array(
            repeating: Welcome.Kernel(name: "k", computeUnits: 1), count: 65536)
        #expect(throws: WireError.malformed("WELCOME kernelCount is 65536, more than 65535")) {
            try OutgoingFrame.welcome(crowded)
        }
    }

    @Test func errorCodesKeepUnknownValues() {
        #expect(WireErrorCode.known.map(\.rawValue) == Array(1...15))
        #expect(WireErrorCode.authenticationFailed.description == "authenticationFailed (3)")
        #expect(WireErrorCode.normalClosure.description == "normalClosure (15)")
        #expect(WireErrorCode(rawValue: 999).description == "code 999")
        #expect(WireErrorCode(rawValue: 0).description == "code 0")
        #expect(ProtocolErrorMessage(WireError.bodyTooLarge(length: 2, limit: 1)).code == .frameTooLarge)
        #expect(WireError.unknownMessageType(13).code == .unknownMessage)
        #expect(WireError.remote(code: .overloaded, message: "").code == .overloaded)
        #expect(WireError.tokenRequired.code == .authenticationFailed)
    }

    @Test func errorDescriptionsAreOneLine() {
        let errors: [WireError] = [
            .badMagic(0x47, 0x45), .unknownMessageType(13), .nonzeroFlags(0x80), .bodyTooLarge(length: 9, limit: 8),
            .truncated("HELLO clientName"), .malformed("x"), .invalidUTF8("GOODBYE message"),
            .stringTooLong("RUN jobKind", length: 5000), .unsupportedVersion(2), .authenticationFailed("wrong token"),
            .tokenRequired, .unexpectedMessage(.run), .remote(code: .shuttingDown, message: "bye"),
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
        #expect(
            WireError.badMagic(0x47, 0x05).description
                == "not an FPGACluster frame: starts with 0x47 0x05, not 0x46 0x57 (\"FW\")")
        #expect(
            WireError.remote(code: .shuttingDown, message: "bye").description == "peer reported shuttingDown (11): bye")
    }
}
