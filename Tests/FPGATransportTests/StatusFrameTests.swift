import FPGATransport
import Testing

@Suite("STATUS and STATUS_REPORT frames")
struct StatusFrameTests {
    func decode(_ type: MessageType, _ body: [UInt8], requestID: UInt64 = 9) throws(WireError) -> WireMessage {
        try Frame(header: FrameHeader(type: type, bodyLength: body.count, requestID: requestID), body: body)
            .decodeMessage()
    }

    /// The body of a STATUS_REPORT of one device, built field by field as the spec lays it out.
    func deviceBody(
        index: UInt16 = 0, programFlag: UInt8 = 1, problemFlag: UInt8 = 0, samples: [[UInt8]] = [],
        sampleCount: UInt16? = nil
    ) -> [UInt8] {
        var body = littleEndian(index) + wireString(Array("sim0".utf8)) + wireString(Array("simulated".utf8))
        body += [programFlag] + (programFlag == 1 ? wireString(Array("gzip".utf8)) : [])
        body += littleEndian(UInt32(2)) + littleEndian(UInt32(1)) + littleEndian(UInt32(0))
        body += littleEndian(UInt64(5)) + littleEndian(UInt64(0)) + littleEndian(UInt64(5000))
        body += littleEndian(UInt64(1500)) + littleEndian(UInt64(2_000_000_000))
        body += [problemFlag] + (problemFlag == 1 ? wireString(Array("gone".utf8)) : [])
        body += littleEndian(sampleCount ?? UInt16(samples.count))
        return body + samples.flatMap { $0 }
    }

    func sample(busy: UInt16) -> [UInt8] {
        littleEndian(UInt64(1000)) + littleEndian(UInt64(300)) + littleEndian(UInt32(1)) + littleEndian(busy)
    }

    @Test func statusIsAnEmptyBodyWithARequestID() throws {
        let frame = try OutgoingFrame.status(id: 42)
        #expect(frame.bytes == rawFrame(11, body: [], requestID: 42))
        let frames = try decodeFrames(frame.bytes)
        #expect(try frames.first?.decodeMessage() == .status)
        #expect(frames.first?.header.requestID == 42)
        #expect(throws: WireError.malformed("STATUS has request id 0")) { try OutgoingFrame.status(id: 0) }
        #expect(throws: WireError.malformed("1 unexpected bytes after the STATUS fields")) {
            try decode(.status, [0])
        }
    }

    @Test func aVersionTwoPeerIsToldBothVersions() {
        #expect(WireProtocol.version == 3)
        #expect(throws: WireError.unsupportedVersion(2)) { try decode(.hello, [2, 0] + clientNonce + [0, 0]) }
        #expect(
            WireError.unsupportedVersion(2).description == "peer speaks protocol version 2, this side speaks version 3")
    }

    @Test func reportRoundTripsThroughTheDecoder() throws {
        let frame = try OutgoingFrame.statusReport(id: 7, sampleStatusReport)
        let frames = try decodeFrames(frame.bytes)
        try #require(frames.count == 1)
        #expect(frames[0].header.type == .statusReport)
        #expect(frames[0].header.requestID == 7)
        #expect(try frames[0].decodeMessage() == .statusReport(sampleStatusReport))
        #expect(MessageType.status.rawValue == 11 && MessageType.statusReport.rawValue == 12)
        #expect(MessageType.statusReport.description == "STATUS_REPORT")
    }

    @Test func reportMatchesTheSpecifiedLayout() throws {
        let body = littleEndian(UInt16(1)) + deviceBody(samples: [sample(busy: 10_000), sample(busy: 0)])
        let expected = StatusReport(devices: [
            StatusReport.Device(
                index: 0, name: "sim0", kind: "simulated", program: "gzip", computeUnits: 2, running: 1, queued: 0,
                completed: 5, failed: 0, inputBytes: 5000, outputBytes: 1500, busyNanoseconds: 2_000_000_000,
                history: [
                    StatusReport.Sample(inputBytes: 1000, outputBytes: 300, completed: 1, busy: 10_000),
                    StatusReport.Sample(inputBytes: 1000, outputBytes: 300, completed: 1, busy: 0),
                ])
        ])
        #expect(try decode(.statusReport, body) == .statusReport(expected))
        #expect(try OutgoingFrame.statusReport(id: 9, expected).bytes == rawFrame(12, body: body, requestID: 9))
    }

    @Test func malformedReportsAreRejected() {
        let one = littleEndian(UInt16(1))
        #expect(throws: WireError.malformed("STATUS_REPORT sample busy is 10001, more than 10000")) {
            try decode(.statusReport, one + deviceBody(samples: [sample(busy: 10_001)]))
        }
        #expect(throws: WireError.malformed("STATUS_REPORT program flag is 2, not 0 or 1")) {
            try decode(.statusReport, one + deviceBody(programFlag: 2))
        }
        #expect(throws: WireError.malformed("STATUS_REPORT problem flag is 7, not 0 or 1")) {
            try decode(.statusReport, one + deviceBody(problemFlag: 7))
        }
        let tooMany = Array(repeating: sample(busy: 0), count: StatusReport.maxSamples + 1)
        #expect(throws: WireError.malformed("STATUS_REPORT sampleCount is 301, more than 300")) {
            try decode(.statusReport, one + deviceBody(samples: tooMany))
        }
        #expect(throws: WireError.malformed("STATUS_REPORT lists device index 3 twice")) {
            try decode(.statusReport, littleEndian(UInt16(2)) + deviceBody(index: 3) + deviceBody(index: 3))
        }
        #expect(throws: WireError.malformed("STATUS_REPORT has request id 0")) {
            try decode(.statusReport, one + deviceBody(), requestID: 0)
        }
        #expect(throws: WireError.malformed("1 unexpected bytes after the STATUS_REPORT fields")) {
            try decode(.statusReport, one + deviceBody() + [0])
        }
    }

    @Test func countsTheBodyCannotHoldFailBeforeReading() {
        // 65535 devices in a few bytes, and a sample count larger than the samples sent.
        #expect(
            throws: WireError.malformed(
                "STATUS_REPORT deviceCount is 65535, more entries than the 3 bytes left can hold")
        ) {
            try decode(.statusReport, [0xff, 0xff, 1, 2, 3])
        }
        #expect(throws: WireError.self) {
            try decode(.statusReport, littleEndian(UInt16(1)) + deviceBody(samples: [sample(busy: 1)], sampleCount: 2))
        }
        #expect(throws: WireError.truncated("STATUS_REPORT deviceCount")) { try decode(.statusReport, [1]) }
    }

    @Test func everyCutOfAReportIsAnError() throws {
        let fields = Array(try OutgoingFrame.statusReport(id: 1, sampleStatusReport).head[FrameHeader.size...])
        for length in 0..<fields.count {
            #expect(throws: WireError.self) { try decode(.statusReport, Array(fields[..<length])) }
        }
    }

    @Test func encodingRefusesWhatDecodingWould() {
        var busy = sampleStatusReport
        busy.devices[0].history = [StatusReport.Sample(busy: 10_001)]
        #expect(throws: WireError.malformed("STATUS_REPORT sample busy is 10001, more than 10000")) {
            try OutgoingFrame.statusReport(id: 1, busy)
        }
        var long = sampleStatusReport
        long.devices[0].history = Array(repeating: StatusReport.Sample(), count: 301)
        #expect(throws: WireError.malformed("STATUS_REPORT device 0 has 301 samples, more than 300")) {
            try OutgoingFrame.statusReport(id: 1, long)
        }
        var twice = sampleStatusReport
        twice.devices[1].index = 0
        #expect(throws: WireError.malformed("STATUS_REPORT lists device index 0 twice")) {
            try OutgoingFrame.statusReport(id: 1, twice)
        }
        #expect(throws: WireError.malformed("STATUS_REPORT has request id 0")) {
            try OutgoingFrame.statusReport(id: 0, sampleStatusReport)
        }
        // A problem too long for a string is cut, not refused: it is free text.
        var wordy = sampleStatusReport
        wordy.devices[0].problem = String(repeating: "x", count: 5000)
        #expect(throws: Never.self) { try OutgoingFrame.statusReport(id: 1, wordy) }
    }
}
