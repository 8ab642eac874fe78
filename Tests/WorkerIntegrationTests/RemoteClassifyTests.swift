import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATestSupport
import Foundation
import Testing

@Suite("classification on fpga-worker processes", .serialized)
struct RemoteClassifyTests {
    static let model = CNVModel.random(seed: 21)
    static let other = CNVModel.random(seed: 22)
    static let pixels = ClassifyTestData.images(29, seed: 3)
    static let expected = try! CNVEngine(model: model).classify(pixels)

    /// A folder with the two models' files.
    func modelFolder() throws -> TemporaryDirectory {
        let folder = try TemporaryDirectory()
        try folder.write("model.cnv", Self.model.fileBytes())
        try folder.write("other.cnv", Self.other.fileBytes())
        return folder
    }

    @Test func twoLocalAndTwoRemoteDevicesGiveTheClassesOfOne() async throws {
        let folder = try modelFolder()
        defer { folder.remove() }
        let one = try await startWorker(["--device", "sim", "--model", folder.file("model.cnv")])
        let two = try await startWorker(["--device", "sim", "--model", folder.file("model.cnv")])
        defer {
            one.stop()
            two.stop()
        }
        let cluster = try await Cluster(
            workers: [one.address, two.address], token: nil,
            devices: .simulated(count: 2, model: Self.model), programs: .builtIn(classifying: Self.model),
            configuration: testConfiguration(batchSize: 3))
        try #require(cluster.nodes.map { $0 is RemoteNode } == [false, false, true, true])
        for node in cluster.nodes {
            #expect(await node.programNames().filter { $0.hasPrefix("cnv-") } == [Self.model.programName])
        }
        let report = try await cluster.classify(try ImageBatch(pixels: Self.pixels), model: Self.model)
        let single = try await Cluster(simulated: 1, model: Self.model).classify(Self.pixels)
        #expect(Set(Self.expected).count > 2)
        #expect(single == Self.expected)
        #expect(report.classes == Self.expected)
        #expect(report.batchesPerNode.values.reduce(0, +) == 10)
        // A worker announces room for a device's compute units (two runs each); a FINN
        // driver takes one batch at a time, so a remote device gets two, not that many.
        let job = try ClassificationJob(model: Self.model, batchSize: 3)
        #expect(try await cluster.nodes[2].capacity(for: job) == 2)
        #expect(try await cluster.nodes[0].capacity(for: job) == 1)

        // The remote workers alone, without naming the model: the one they have.
        let remote = try await Cluster(
            workers: [one.address, two.address], token: nil, configuration: testConfiguration(batchSize: 4))
        #expect(try await remote.classify(Self.pixels) == Self.expected)
    }

    @Test func aWorkerWithoutAModelCannotClassify() async throws {
        let worker = try await startWorker(["--device", "sim"])
        defer { worker.stop() }
        let cluster = try await Cluster(workers: [worker.address], token: nil, configuration: testConfiguration())
        try #require(cluster.nodes.count == 1)
        await #expect(throws: ClassificationError.noClassifier(model: Self.model.identity)) {
            _ = try await cluster.classify(Self.pixels, model: Self.model)
        }
        // A batch sent anyway is refused by the worker, with the program it lacks named.
        let job = try ClassificationJob(model: Self.model, batchSize: 4)
        do {
            _ = try await cluster.nodes[0].run(job, Self.pixels[0..<(4 * 3072)])
            Issue.record("a worker without the model classified")
        } catch let error as ClusterError {
            guard case .remoteRunFailed(_, _, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(message.contains(Self.model.programName), "\(message)")
        }
    }

    @Test func aWorkerWithAnotherModelIsAMismatch() async throws {
        let folder = try modelFolder()
        defer { folder.remove() }
        let worker = try await startWorker(["--device", "sim", "--model", folder.file("other.cnv")])
        defer { worker.stop() }
        let cluster = try await Cluster(
            workers: [worker.address], token: nil, devices: .simulated(count: 1, model: Self.model),
            programs: .builtIn(classifying: Self.model), configuration: testConfiguration())
        try #require(cluster.nodes.count == 2)
        await #expect(
            throws: ClassificationError.modelMismatch(
                node: cluster.nodes[1].name, expected: Self.model.identity, found: [Self.other.identity])
        ) {
            _ = try await cluster.classify(Self.pixels, model: Self.model)
        }
    }

    @Test func aWorkerWithABadModelFileDoesNotStart() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("short.cnv", Array(Self.model.fileBytes().dropLast(1)))
        try folder.write("v9.cnv", ClassifyTestData.modelFile(Self.model, version: 9))
        for (name, message) in [
            ("short.cnv", "version 1 has exactly \(CNVModel.fileSize)"), ("v9.cnv", "version 9 is not supported"),
            ("missing.cnv", "no such file"),
        ] {
            // startWorker throws when the worker exits before listening, with its standard error.
            do {
                let worker = try await startWorker(["--device", "sim", "--model", folder.file(name)])
                worker.stop()
                Issue.record("fpga-worker started with \(name)")
            } catch let failure as ToolFailure {
                let text = failure.description.replacingOccurrences(
                    of: "fpga-worker exited before listening: ", with: "")
                #expect(text.split(separator: "\n").count == 1, "\(text)")
                #expect(text.hasPrefix("fpga-worker: ") && text.contains(message), "\(text)")
            }
        }
    }
}
