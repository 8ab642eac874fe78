import FPGADevice
import FPGAJobs
import FPGAKernels
import FPGATestSupport
import FPGATransport
import Testing

@Suite("jobs on the wire: codecs, parameters checked as a worker must")
struct RemoteJobTests {
    @Test func aRemoteJobHasAWireCodecAndALocalOnlyJobHasNone() throws {
        // Through the protocol, as a remote node reads it.
        let wire = try #require(try Self.wire(of: GzipCompressionJob(chunkSize: 65536)))
        #expect(wire.kind == "gzip")
        #expect(wire.parameters == [0, 0, 1, 0])
        #expect(try Self.wire(of: LocalOnlyGzipJob()) == nil)
        #expect(try Self.wire(of: EchoJob())?.kind == "echo")
    }

    private static func wire<Job: DeviceJob>(of job: Job) throws -> JobWire<Job.Input, Job.Output>? {
        try job.wire
    }

    @Test func parametersRoundTrip() throws {
        let gzip = GzipCompressionJob(chunkSize: 1 << 20)
        #expect(try GzipCompressionJob(parameters: try gzip.parameters).chunkSize == 1 << 20)
        let program = "cnv-0123456789abcdef"
        let cnv = try ClassificationJob(program: program, batchSize: 32)
        let again = try ClassificationJob(parameters: try cnv.parameters)
        #expect(again.program == program && again.batchSize == 32)
        #expect(try EchoJob(parameters: try EchoJob().parameters).program == "echo")
    }

    @Test func badParametersAreTypedErrors() throws {
        #expect(throws: WireError.truncated("gzip parameters chunk size")) {
            try GzipCompressionJob(parameters: [1, 2])
        }
        #expect(throws: WireError.malformed("1 unexpected bytes after the gzip parameters fields")) {
            try GzipCompressionJob(parameters: [0, 0, 1, 0, 9])
        }
        #expect(throws: ConfigurationError.invalidChunkSize(16, range: GzipCompressionJob.chunkSizeRange)) {
            try GzipCompressionJob(parameters: [16, 0, 0, 0])
        }
        #expect(throws: NodeError.self) { try ClassificationJob(parameters: [1, 0, 0, 0] + Array("gzip".utf8)) }
        #expect(throws: NodeError.self) { try ClassificationJob(parameters: [1, 0, 0, 0, 0xff, 0xfe]) }
        #expect(throws: ConfigurationError.self) {
            try ClassificationJob(parameters: [0, 0, 0, 0] + Array("cnv-0123456789abcdef".utf8))
        }
    }

    @Test func byteJobsSendTheirBytesWithoutCopying() throws {
        let bytes: [UInt8] = Array(0..<100)
        let slice = bytes[10..<20]
        let encoded = GzipCompressionJob.encodeInput(slice)
        #expect(encoded.startIndex == 10 && encoded == slice)
        encoded.withUnsafeBufferPointer { encodedBuffer in
            slice.withUnsafeBufferPointer { #expect(encodedBuffer.baseAddress == $0.baseAddress) }
        }
    }

    @Test func theRegistryRunsARegisteredJobOnANode() async throws {
        let node = LocalNode(
            device: SimulatedDevice(name: "sim0", kernels: ProgramLibrary.builtInKernels), programs: .builtIn)
        let registry = JobRegistry.builtIn
        #expect(registry.kinds == ["cnv", "echo", "gzip"])
        let handler = try #require(registry.handlers["gzip"])
        let input = [UInt8](repeating: 7, count: 4000)
        let member = try await handler(try GzipCompressionJob(chunkSize: 4096).parameters, input[...], node)
        #expect(member.starts(with: [0x1f, 0x8b]))
        await #expect(throws: ConfigurationError.self) {
            _ = try await handler([0, 0, 0, 0], input[...], node)
        }
    }
}
