import FPGATransport
import Testing

/// Feeds `bytes` to `decoder`.
func feed(_ decoder: inout FrameDecoder, _ bytes: ArraySlice<UInt8>) throws(WireError) -> [Frame] {
    let result = bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try decoder.feed(raw) } }
    return try result.get()
}

/// Reads `bytes` into `decoder` as a connection reads its socket: each read lends the
/// decoder's storage and stores at most `maxRead` bytes (what one `recv` returns), and
/// `nextFrame()` follows every read.
func readAsConnection(_ decoder: inout FrameDecoder, _ bytes: ArraySlice<UInt8>, maxRead: Int = .max)
    throws(WireError) -> [Frame]
{
    var frames: [Frame] = []
    var offset = bytes.startIndex
    while offset < bytes.endIndex {
        let count = min(maxRead, bytes.endIndex - offset)
        let stored = bytes[offset..<(offset + count)].withUnsafeBytes { source in
            decoder.read { region in
                let stored = min(region.count, source.count)
                region.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<stored]))
                return stored
            }
        }
        offset += stored
        if let frame = try decoder.nextFrame() { frames.append(frame) }
    }
    return frames
}

/// Decodes `bytes`, which must hold exactly whole frames.
func decodeFrames(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> [Frame] {
    var decoder = FrameDecoder(limits: limits)
    let frames = try feed(&decoder, bytes[...])
    #expect(decoder.bufferedByteCount == 0)
    return frames
}

/// A frame built by hand: a header for `body` and the body.
func rawFrame(_ type: UInt8, body: [UInt8], requestID: UInt64 = 0, flags: UInt8 = 0) -> [UInt8] {
    var bytes: [UInt8] = [0x46, 0x57, type, flags]
    bytes += littleEndian(UInt32(body.count))
    bytes += littleEndian(requestID)
    return bytes + body
}

func littleEndian(_ value: some FixedWidthInteger) -> [UInt8] {
    (0..<(value.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// A wire string: u16 length and the bytes.
func wireString(_ bytes: [UInt8]) -> [UInt8] {
    littleEndian(UInt16(bytes.count)) + bytes
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// Nonces with recognizable contents: 0x00...0x1f and 0x20...0x3f.
let clientNonce = [UInt8](0..<32)
let workerNonce = [UInt8](32..<64)

/// One or more messages of every type, with the request id each travels with.
let sampleMessages: [(message: WireMessage, requestID: UInt64)] = [
    (.hello(Hello(clientNonce: clientNonce, clientName: "client-1")), 0),
    (.hello(Hello(clientNonce: workerNonce, clientName: "")), 0),
    (.challenge(Challenge(workerNonce: workerNonce, authRequired: false)), 0),
    (
        .challenge(
            Challenge(workerNonce: workerNonce, authRequired: true, workerProof: [UInt8](repeating: 0xa5, count: 32))),
        0
    ),
    (.auth(Auth()), 0),
    (.auth(Auth(clientProof: [UInt8](200..<232))), 0),
    (.welcome(sampleWelcome), 0),
    (.welcome(Welcome(workerID: "empty", maxBodyLength: 1024, heartbeatIntervalMilliseconds: 1, devices: [])), 0),
    (
        .run(
            RunRequest(deviceIndex: 1, jobKind: "gzip-compress", parameters: [1, 2, 3, 4]),
            payload: ArraySlice((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) })),
        1
    ),
    (.run(RunRequest(deviceIndex: 0xffff, jobKind: "", parameters: []), payload: []), .max),
    (.result(.success, payload: ArraySlice((0..<200).map { UInt8(truncatingIfNeeded: $0) })), 1),
    (.result(.success, payload: []), 2),
    (.result(.failure(code: .overloaded, message: "device 0 is busy"), payload: []), 3),
    (.result(.failure(code: WireErrorCode(rawValue: 999), message: "a newer peer's code"), payload: []), 4),
    (.cancel, 5),
    (.heartbeat(Heartbeat(timestampMilliseconds: 0x0102_0304_0506_0708)), 0),
    (.goodbye(Goodbye(reason: .normalClosure, message: "bye")), 0),
    (.goodbye(Goodbye(reason: .shuttingDown)), 0),
    (.error(ProtocolErrorMessage(code: .authenticationFailed, message: "wrong token: ünïcödé ✓")), 0),
    (.status, 6),
    (.statusReport(sampleStatusReport), 6),
    (.statusReport(StatusReport(devices: [])), .max),
]

let sampleStatusReport = StatusReport(devices: [
    StatusReport.Device(
        index: 0, name: "sim0", kind: "simulated", program: "gzip", computeUnits: 2, running: 2, queued: 1,
        completed: 40, failed: 1, inputBytes: 40 << 20, outputBytes: 12 << 20, busyNanoseconds: 3_500_000_000,
        problem: nil,
        history: [
            StatusReport.Sample(inputBytes: 8 << 20, outputBytes: 2 << 20, completed: 8, busy: 10_000),
            StatusReport.Sample(),
            StatusReport.Sample(inputBytes: .max, outputBytes: 1, completed: .max, busy: 1),
        ]),
    StatusReport.Device(
        index: 7, name: "xilinx_u250", kind: "xrt", problem: "the last run failed: ünïcödé ✓",
        history: Array(repeating: StatusReport.Sample(busy: 5000), count: StatusReport.maxSamples)),
])

let sampleWelcome = Welcome(
    workerID: "worker-α",
    maxBodyLength: 75_497_472,
    heartbeatIntervalMilliseconds: 1000,
    devices: [
        Welcome.Device(
            index: 0, name: "sim0", kind: .simulated, capacity: 4,
            programs: [
                Welcome.Program(
                    name: "gzip", capacity: 4,
                    kernels: [
                        Welcome.Kernel(name: "xilGzipCompBlock", computeUnits: 2),
                        Welcome.Kernel(name: "xilDecompress", computeUnits: 1),
                    ]),
                Welcome.Program(name: "empty", capacity: 1, kernels: []),
            ]),
        Welcome.Device(
            index: 7, name: "xilinx_u250", kind: .xrt, capacity: 16,
            programs: [
                Welcome.Program(name: "gzip", capacity: 16, kernels: [Welcome.Kernel(name: "k", computeUnits: 8)])
            ]),
        Welcome.Device(index: 9, name: "future", kind: Welcome.DeviceKind(rawValue: "gpu"), capacity: 0, programs: []),
    ])

/// Every sample encoded.
func sampleFrames() throws -> [OutgoingFrame] {
    try sampleMessages.map { try OutgoingFrame.message($0.message, requestID: $0.requestID) }
}
