import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATransport
import Testing
import VectorAdd

/// Pairs of the given lengths, of random elements (so about half the sums wrap), the
/// first with every element at `UInt32.max` plus one so that each of its sums wraps.
func pairs(_ lengths: [Int], seed: UInt64 = 7) -> [VectorPair] {
    var generator = SplitMix64(seed: seed)
    return lengths.enumerated().map { position, length in
        if position == 0 {
            return VectorPair(lhs: [UInt32](repeating: .max, count: length), rhs: [UInt32](repeating: 1, count: length))
        }
        return VectorPair(
            lhs: (0..<length).map { _ in UInt32.random(in: .min ... .max, using: &generator) },
            rhs: (0..<length).map { _ in UInt32.random(in: .min ... .max, using: &generator) })
    }
}

func cpuSum(_ pair: VectorPair) -> [UInt32] {
    zip(pair.lhs, pair.rhs).map { $0 &+ $1 }
}

@Suite("VectorAddJob's wire codec")
struct VectorAddJobCodecTests {
    @Test func parametersRoundTrip() throws {
        let job = VectorAddJob(maxElements: 4096)
        let parameters = try job.parameters
        #expect(parameters == [0x00, 0x10, 0x00, 0x00])
        #expect(try VectorAddJob(parameters: parameters).maxElements == 4096)
        #expect(VectorAddJob.kind == "vadd")
        #expect(job.program == "vadd")
    }

    @Test func badParametersAreRefused() throws {
        let limit = VectorAddJob.maxElementsRange.upperBound
        #expect(throws: VectorAddError.invalidMaxElements(0, limit: limit)) {
            try VectorAddJob(parameters: [0, 0, 0, 0])
        }
        #expect(throws: VectorAddError.invalidMaxElements(limit + 1, limit: limit)) {
            try VectorAddJob(parameters: [0x01, 0x00, 0x80, 0x00])  // 8 Mi + 1
        }
        #expect(throws: WireError.self) { try VectorAddJob(parameters: [1, 0, 0]) }
        #expect(throws: WireError.self) { try VectorAddJob(parameters: [1, 0, 0, 0, 0]) }
        #expect(throws: VectorAddError.invalidMaxElements(0, limit: limit)) {
            _ = try VectorAddJob(maxElements: 0).parameters
        }
    }

    @Test(arguments: [0, 1, 3, 1000])
    func inputsAndOutputsRoundTrip(length: Int) throws {
        for pair in pairs([length, length]) {
            let payload = try VectorAddJob.encodeInput(pair)
            #expect(payload.count == 4 + 8 * length)
            #expect(try VectorAddJob.decodeInput(payload) == pair)
            // From a slice that does not start at index 0, as a frame's payload does not.
            let framed = ([9, 9, 9] + Array(payload))[3...]
            #expect(try VectorAddJob.decodeInput(framed) == pair)
            let sum = cpuSum(pair)
            let output = VectorAddJob.encodeOutput(sum)
            #expect(output.count == 4 * length)
            #expect(try VectorAddJob.decodeOutput(output) == sum)
            #expect(try VectorAddJob.decodeOutput((Array(output) + [7])[..<output.count]) == sum)
        }
    }

    @Test func elementsAreLittleEndian() throws {
        let payload = try VectorAddJob.encodeInput(VectorPair(lhs: [0x0403_0201], rhs: [0x0807_0605]))
        #expect(Array(payload) == [1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(VectorAddJob.encodeOutput([0x0d0c_0b0a])) == [0x0a, 0x0b, 0x0c, 0x0d])
    }

    @Test func badInputsAreRefused() throws {
        #expect(throws: VectorAddError.lengthMismatch(2, 1)) {
            _ = try VectorAddJob.encodeInput(VectorPair(lhs: [1, 2], rhs: [3]))
        }
        let good = Array(try VectorAddJob.encodeInput(VectorPair(lhs: [1, 2], rhs: [3, 4])))
        // Too short, too long, and a count that promises more than the payload holds.
        #expect(throws: VectorAddError.malformedInput(count: 2, bytes: 15)) {
            _ = try VectorAddJob.decodeInput(good.dropLast()[...])
        }
        #expect(throws: VectorAddError.malformedInput(count: 2, bytes: 17)) {
            _ = try VectorAddJob.decodeInput((good + [0])[...])
        }
        #expect(throws: VectorAddError.malformedInput(count: 0xffff_ffff, bytes: 16)) {
            _ = try VectorAddJob.decodeInput(([0xff, 0xff, 0xff, 0xff] + good.dropFirst(4))[...])
        }
        #expect(throws: WireError.self) { _ = try VectorAddJob.decodeInput([1, 0][...]) }
        #expect(throws: WireError.self) { _ = try VectorAddJob.decodeInput([][...]) }
    }

    @Test func badOutputsAreRefused() throws {
        #expect(throws: VectorAddError.malformedOutput(bytes: 5)) {
            _ = try VectorAddJob.decodeOutput([1, 2, 3, 4, 5][...])
        }
        #expect(try VectorAddJob.decodeOutput([][...]) == [])
    }
}

@Suite("VectorAddJob on an embedded cluster")
struct VectorAddClusterTests {
    /// Lengths of 1, odd, even, the job's maximum and empty; the first pair wraps everywhere.
    let inputs = pairs([257, 1, 3, 256, 1000, 999, 0, 1024, 17])

    func cluster() throws -> Cluster {
        try Cluster(devices: .simulatedVectorAdd(count: 2), programs: .vectorAdd(computeUnits: 2))
    }

    @Test func mapGivesSumsInOrder() async throws {
        let cluster = try cluster()
        let sums = try await cluster.map(VectorAddJob(maxElements: 1024), inputs: inputs)
        #expect(sums == inputs.map(cpuSum))
        #expect(sums[0].allSatisfy { $0 == 0 })
        var completed = 0
        for node in cluster.nodes { completed += await node.completed["vadd"] ?? 0 }
        #expect(completed == inputs.count)
    }

    @Test func runStreamsSumsInOrder() async throws {
        let cluster = try cluster()
        let stream = AsyncStream<VectorPair> { continuation in
            for pair in inputs { continuation.yield(pair) }
            continuation.finish()
        }
        var sums: [[UInt32]] = []
        for try await sum in cluster.run(VectorAddJob(maxElements: 1024), inputs: stream) { sums.append(sum) }
        #expect(sums == inputs.map(cpuSum))
    }

    /// The example of DocsSite's "Writing a Job for Your Own Kernel", step 5, as it stands.
    @Test func theArticlesExample() async throws {
        let cluster = try Cluster(devices: .simulatedVectorAdd(count: 2), programs: .vectorAdd(computeUnits: 2))
        let job = VectorAddJob(maxElements: 4096)
        let sums = try await cluster.map(job, inputs: [VectorPair(lhs: [1, 2, .max], rhs: [10, 20, 1])])
        #expect(sums == [[11, 22, 0]])
    }

    @Test func anInputLongerThanTheBuffersFailsTheJob() async throws {
        let cluster = try cluster()
        await #expect(throws: VectorAddError.tooManyElements(5, limit: 4)) {
            _ = try await cluster.map(VectorAddJob(maxElements: 4), inputs: pairs([5]))
        }
    }

    @Test func theLibraryStatesTheDriversCapacity() throws {
        let library = try ProgramLibrary.vectorAdd(computeUnits: 3)
        #expect(library.capacity(of: "vadd") == 3)
        #expect(library.programs["vadd"]?.kernels.first?.computeUnits.count == 3)
        #expect(throws: VectorAddError.invalidComputeUnitCount(5, valid: 1...4)) {
            _ = try ProgramLibrary.vectorAdd(computeUnits: 5)
        }
    }
}
