import FPGADevice
import FPGADrivers
import FPGAJobs
import FPGAKernels
import Testing

@Suite("program libraries: the capacity a worker process announces per program")
struct ProgramLibraryTests {
    @Test func builtInProgramsHaveTheirDriversCapacity() async throws {
        #expect(ProgramLibrary.builtIn.capacity(of: "gzip") == 6)
        let device = SimulatedDevice(name: "sim0", kernels: ProgramLibrary.builtInKernels)
        let node = LocalNode(device: device, programs: .builtIn)
        // The announced capacity is the one the driver, once made, reports.
        #expect(try await node.capacity(for: GzipCompressionJob(chunkSize: 4096)) == 6)
        #expect(ProgramLibrary.builtIn.capacity(of: "nothing") == nil)
    }

    @Test("the CPU fallback's gzip program: the card's kernel with one compute unit, two chunks at a time")
    func cpuFallbackHasOneComputeUnit() async throws {
        let fallback = try #require(ProgramLibrary.cpuFallback.programs["gzip"])
        let card = try #require(ProgramLibrary.builtIn.programs["gzip"])
        #expect(fallback.kernels.map(\.name) == card.kernels.map(\.name))
        #expect(fallback.kernels.map(\.arguments) == card.kernels.map(\.arguments))
        #expect(fallback.kernels.map(\.computeUnits.count) == [1])
        #expect(ProgramLibrary.cpuFallback.capacity(of: "gzip") == 2)
        let node = LocalNode(
            device: SimulatedDevice(name: "sim0", kernels: ProgramLibrary.builtInKernels), programs: .cpuFallback)
        #expect(try await node.capacity(for: GzipCompressionJob(chunkSize: 4096)) == 2)
    }

    @Test func aClassifierTakesOneBatch() throws {
        let model = CNVModel.random(seed: 3)
        let library = ProgramLibrary.builtIn(classifying: model)
        #expect(library.capacity(of: model.programName) == 1)
        #expect(library.classifierPrograms == [model.programName])
    }

    @Test func statedCapacitiesWinAndOthersCountComputeUnits() {
        let gzip = Xclbin.gzipCompression(computeUnits: 2)
        var other = gzip
        other.name = "mine"
        let library = ProgramLibrary([:]).adding(other).adding(gzip, named: "stated", capacity: 9)
        #expect(library.capacity(of: "mine") == 2)
        #expect(library.capacity(of: "stated") == 9)
        #expect(GzipDriver.capacity(of: gzip) == 4)
    }

    @Test func aLocalNodeRefusesAProgramItLacks() async throws {
        let node = LocalNode(device: SimulatedDevice(name: "sim0", kernels: []), programs: ProgramLibrary([:]))
        await #expect(throws: NodeError.programUnavailable("gzip", node: "sim0")) {
            _ = try await node.capacity(for: GzipCompressionJob(chunkSize: 4096))
        }
        await #expect(throws: NodeError.notRecoverable(node: "sim0")) { try await node.recover() }
        #expect(!node.canRecover)
    }

    @Test func echoRunsOnTheHostWithoutAProgramAndKeepsTheLoadedOne() async throws {
        // A node whose library and device hold nothing still echoes: echo loads nothing.
        let bare = SimulatedDevice(name: "sim0", kernels: [])
        let empty = LocalNode(device: bare, programs: ProgramLibrary([:]))
        let input: ArraySlice<UInt8> = [1, 2, 3, 250][...]
        #expect(try await empty.run(EchoJob(), input) == input)
        #expect(try await empty.capacity(for: EchoJob()) == EchoJob.capacity)
        #expect(await bare.xclbin == nil)

        // Between gzip runs, echo leaves the gzip program loaded.
        let device = SimulatedDevice(name: "sim1", kernels: ProgramLibrary.builtInKernels)
        let node = LocalNode(device: device, programs: .builtIn)
        let gzip = GzipCompressionJob(chunkSize: 4096)
        let text = ArraySlice(Array(repeating: Array("echo gzip ".utf8), count: 50).joined())
        let first = try await node.run(gzip, text)
        // A load would empty the banks the gzip driver's buffers fill.
        let usage = try #require(await device.program?.bankUsage)
        #expect(usage.reduce(0, +) > 0)
        #expect(try await node.run(EchoJob(), text) == text)
        #expect(await device.program?.bankUsage == usage)
        #expect(try await node.run(gzip, text) == first)
        #expect(await node.completed == ["gzip": 2, "echo": 1])
    }
}
