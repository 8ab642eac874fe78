import FPGATransport
import Testing

@Suite("message bodies that break the rules")
struct MalformedBodyTests {
    func decode(_ type: MessageType, _ body: [UInt8], requestID: UInt64 = 0) throws(WireError) -> WireMessage {
        try Frame(header: FrameHeader(type: type, bodyLength: body.count, requestID: requestID), body: body)
            .decodeMessage()
    }

    func isTruncatedOrMalformed(_ error: WireError) -> Bool {
        switch error {
        case .truncated, .malformed: true
        default: false
        }
    }

    @Test func everyCutInsideTheFieldsIsAnError() throws {
        for (message, requestID) in sampleMessages {
            let outgoing = try OutgoingFrame.message(message, requestID: requestID)
            // Cutting a payload leaves a valid, shorter payload, so cut only the fields.
            let fields = Array(outgoing.head[FrameHeader.size...])
            for length in 0..<fields.count {
                do {
                    let decoded = try decode(message.type, Array(fields[..<length]), requestID: requestID)
                    Issue.record("\(message.type) cut to \(length) of \(fields.count) bytes decoded as \(decoded)")
                } catch {
                    #expect(isTruncatedOrMalformed(error), "\(message.type) cut to \(length): \(error)")
                }
            }
        }
    }

    @Test func truncationNamesTheField() {
        #expect(throws: WireError.truncated("HELLO clientNonce")) { try decode(.hello, [3, 0, 1, 2]) }
        #expect(throws: WireError.truncated("HEARTBEAT timestamp")) { try decode(.heartbeat, [1, 2, 3]) }
        #expect(throws: WireError.truncated("RUN parameters")) {
            try decode(.run, [0, 0, 0, 0, 5, 0, 0, 0, 1, 2], requestID: 1)
        }
        // A parameters length of 4 GiB − 1 fails before anything is allocated for it.
        #expect(throws: WireError.truncated("RUN parameters")) {
            try decode(.run, [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], requestID: 1)
        }
    }

    @Test func bytesAfterTheFieldsAreAnError() throws {
        for (message, requestID) in sampleMessages {
            if case .run = message { continue }
            if case .result(.success, _) = message { continue }
            let outgoing = try OutgoingFrame.message(message, requestID: requestID)
            let body = Array(outgoing.bytes[FrameHeader.size...]) + [0]
            #expect(throws: WireError.malformed("1 unexpected bytes after the \(message.type) fields")) {
                try decode(message.type, body, requestID: requestID)
            }
        }
    }

    @Test func invalidUTF8IsRejected() throws {
        let invalid: [[UInt8]] = [
            [0xff],  // never valid
            [0xc0, 0x80],  // overlong NUL
            [0xed, 0xa0, 0x80],  // UTF-16 surrogate
            [0x61, 0xe2, 0x82],  // cut inside a character
            [0x80],  // lone continuation byte
            [0xf4, 0x90, 0x80, 0x80],  // above U+10FFFF
        ]
        for bytes in invalid {
            let hello = [3, 0] + clientNonce + wireString(bytes)
            #expect(throws: WireError.invalidUTF8("HELLO clientName")) { try decode(.hello, hello) }
            #expect(throws: WireError.invalidUTF8("GOODBYE message")) {
                try decode(.goodbye, [15, 0] + wireString(bytes))
            }
        }
        // Valid multi-byte text, NUL included, is fine.
        let text = Array("a\u{0}é€😀".utf8)
        #expect(
            try decode(.error, [1, 0] + wireString(text))
                == .error(ProtocolErrorMessage(code: .malformedFrame, message: "a\u{0}é€😀")))
    }

    @Test func stringsOver4096BytesAreRejected() throws {
        let long = [UInt8](repeating: 0x61, count: 4097)
        #expect(throws: WireError.stringTooLong("GOODBYE message", length: 4097)) {
            try decode(.goodbye, [15, 0] + wireString(long))
        }
        // Also when the body does not hold the bytes: the length alone is enough.
        #expect(throws: WireError.stringTooLong("RUN jobKind", length: 0xffff)) {
            try decode(.run, [0, 0, 0xff, 0xff], requestID: 1)
        }
        let limit = [UInt8](repeating: 0x61, count: 4096)
        #expect(
            try decode(.goodbye, [15, 0] + wireString(limit))
                == .goodbye(Goodbye(reason: .normalClosure, message: String(repeating: "a", count: 4096))))
    }

    @Test func countsLargerThanTheBodyAreRejected() throws {
        let start = wireString(Array("w".utf8)) + littleEndian(UInt32(1000)) + littleEndian(UInt32(1000))
        #expect(
            throws: WireError.malformed("WELCOME deviceCount is 65535, more entries than the 0 bytes left can hold")
        ) {
            try decode(.welcome, start + [0xff, 0xff])
        }
        // One device's worth of bytes, but two announced.
        let device = littleEndian(UInt16(0)) + wireString([]) + wireString([]) + littleEndian(UInt32(1)) + [0, 0]
        #expect(throws: WireError.malformed("WELCOME deviceCount is 2, more entries than the 12 bytes left can hold")) {
            try decode(.welcome, start + [2, 0] + device)
        }
        // A device announcing more programs, and a program more kernels, than follow.
        let manyPrograms =
            littleEndian(UInt16(0)) + wireString([]) + wireString([]) + littleEndian(UInt32(1)) + [0xff, 0xff]
        #expect(
            throws: WireError.malformed("WELCOME programCount is 65535, more entries than the 0 bytes left can hold")
        ) {
            try decode(.welcome, start + [1, 0] + manyPrograms)
        }
        let manyKernels =
            littleEndian(UInt16(0)) + wireString([]) + wireString([]) + littleEndian(UInt32(1)) + [1, 0]
            + wireString(Array("gzip".utf8)) + littleEndian(UInt32(6)) + [0x00, 0x10]
        #expect(throws: WireError.malformed("WELCOME kernelCount is 4096, more entries than the 0 bytes left can hold"))
        {
            try decode(.welcome, start + [1, 0] + manyKernels)
        }
        #expect(
            try decode(.welcome, start + [1, 0] + device)
                == .welcome(
                    Welcome(
                        workerID: "w", maxBodyLength: 1000, heartbeatIntervalMilliseconds: 1000,
                        devices: [
                            Welcome.Device(
                                index: 0, name: "", kind: Welcome.DeviceKind(rawValue: ""), capacity: 1, programs: [])
                        ])))
    }

    @Test func welcomeSemantics() {
        let start = wireString(Array("w".utf8)) + littleEndian(UInt32(1000))
        let device = littleEndian(UInt16(3)) + wireString([]) + wireString([]) + littleEndian(UInt32(1)) + [0, 0]
        #expect(throws: WireError.malformed("WELCOME heartbeat interval is 0")) {
            try decode(.welcome, start + littleEndian(UInt32(0)) + [0, 0])
        }
        #expect(throws: WireError.malformed("WELCOME lists device index 3 twice")) {
            try decode(.welcome, start + littleEndian(UInt32(5)) + [2, 0] + device + device)
        }
    }

    @Test func otherVersionsAreRejectedBeforeTheRest() {
        // Whatever follows the version: a later version may lay it out differently.
        #expect(throws: WireError.unsupportedVersion(1)) { try decode(.hello, [1, 0, 0xff]) }
        // A version 2 peer (no STATUS) is refused as clearly as any other.
        #expect(throws: WireError.unsupportedVersion(2)) { try decode(.hello, [2, 0, 0xff]) }
        #expect(throws: WireError.unsupportedVersion(4)) { try decode(.hello, [4, 0, 0xff]) }
        #expect(throws: WireError.unsupportedVersion(0)) { try decode(.challenge, [0, 0]) }
        #expect(throws: WireError.unsupportedVersion(0x0100)) { try decode(.challenge, [0, 1] + workerNonce) }
    }

    @Test func fieldValuesOutsideTheirRange() {
        #expect(throws: WireError.malformed("CHALLENGE authRequired is 2, not 0 or 1")) {
            try decode(.challenge, [3, 0] + workerNonce + [2] + [UInt8](repeating: 0, count: 32))
        }
        #expect(throws: WireError.malformed("RESULT status is 2, not 0 or 1")) {
            try decode(.result, [2], requestID: 1)
        }
        #expect(throws: WireError.truncated("RESULT status")) { try decode(.result, [], requestID: 1) }
        for type in [MessageType.run, .result, .cancel, .status, .statusReport] {
            #expect(throws: WireError.malformed("\(type) has request id 0")) {
                try decode(type, [0, 0, 0, 0, 0, 0, 0, 0])
            }
        }
    }
}
