import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATestSupport
import FPGATransport
import Testing

@Suite("classification on the cluster")
struct ClassifyTests {
    static let model = CNVModel.random(seed: 11)
    static let other = CNVModel.random(seed: 12)
    static let engine = try! CNVEngine(model: model)
    /// 37 images: a prime, so no batch size but 1 and 37 divides it.
    static let pixels = ClassifyTestData.images(37)
    static let expected = try! engine.classify(pixels)

    func cluster(devices: Int, batchSize: Int = 8, model: CNVModel = ClassifyTests.model) throws -> Cluster {
        try Cluster(simulated: devices, model: model, configuration: .init(batchSize: batchSize))
    }

    @Test func classesVaryAndMatchTheEngine() async throws {
        // The expected classes are not a constant, so agreeing with them means something.
        #expect(Set(Self.expected).count > 2)
        let classes = try await cluster(devices: 1).classify(Self.pixels)
        #expect(classes == Self.expected)
    }

    @Test(arguments: [1, 5, 16, 64])
    func twoDevicesGiveTheClassesInInputOrder(batchSize: Int) async throws {
        let cluster = try cluster(devices: 2, batchSize: batchSize)
        let batch = try ImageBatch(pixels: Self.pixels)
        let report = try await cluster.classify(batch)
        #expect(report.classes == Self.expected)
        #expect(report.correct == nil && report.accuracy == nil)
        #expect(report.batchesPerNode.values.reduce(0, +) == (37 + batchSize - 1) / batchSize)
    }

    @Test func accuracyComesFromTheLabels() async throws {
        // Labels equal to the true classes except for 10 images (0, 4, ..., 36), shifted by one.
        var labels = Self.expected
        for image in stride(from: 0, to: 37, by: 4) { labels[image] = (labels[image] + 1) % 10 }
        let report = try await cluster(devices: 2, batchSize: 5).classify(
            try ImageBatch(pixels: Self.pixels, labels: labels))
        #expect(report.classes == Self.expected)
        #expect(report.correct == 37 - 10)
        #expect(report.accuracy == Double(27) / 37)
    }

    @Test func progressCountsEveryImageByte() async throws {
        let log = ProgressLog()
        _ = try await cluster(devices: 2, batchSize: 4).classify(Self.pixels, progress: { log.record($0) })
        let reports = log.all
        #expect(reports.count == 10)
        #expect(reports.last?.bytesDone == Self.pixels.count)
        #expect(reports.last?.fraction == 1)
    }

    @Test func emptyInputGivesNoClasses() async throws {
        #expect(try await cluster(devices: 1).classify([UInt8]()) == [])
    }

    @Test func partialImagesAreRefused() async throws {
        let cluster = try cluster(devices: 1)
        await #expect(throws: ImageFileError.rawLength(3072 * 2 + 5)) {
            _ = try await cluster.classify([UInt8](repeating: 1, count: 3072 * 2 + 5))
        }
    }

    @Test func aClusterWithoutAModelSaysSo() async throws {
        let cluster = try Cluster(devices: .simulated(count: 2))
        await #expect(throws: ClassificationError.noClassifier(model: nil)) {
            _ = try await cluster.classify(Self.pixels)
        }
        await #expect(throws: ClassificationError.noClassifier(model: Self.model.identity)) {
            _ = try await cluster.classify(Self.pixels, model: Self.model)
        }
    }

    @Test func anotherModelIsAMismatch() async throws {
        let cluster = try cluster(devices: 2)
        await #expect(
            throws: ClassificationError.modelMismatch(
                node: "sim0", expected: Self.other.identity, found: [Self.model.identity])
        ) {
            _ = try await cluster.classify(Self.pixels, model: Self.other)
        }
        // With the right model named, it classifies.
        #expect(try await cluster.classify(Self.pixels, model: Self.model) == Self.expected)
    }

    @Test func nodesWithTwoModelsNeedToBeTold() async throws {
        let first = try [any Device].simulated(count: 1, model: Self.model)
        let second = try [any Device].simulated(count: 1, model: Self.other)
        let cluster = try Cluster(nodes: [
            LocalNode(device: first[0], programs: .builtIn(classifying: Self.model)),
            LocalNode(device: second[0], programs: .builtIn(classifying: Self.other)),
        ])
        let identities = [Self.model.identity, Self.other.identity].sorted()
        await #expect(throws: ClassificationError.severalModels(identities)) {
            _ = try await cluster.classify(Self.pixels)
        }
        // Naming one model is then a mismatch on the node that has the other.
        await #expect(throws: ClassificationError.self) {
            _ = try await cluster.classify(Self.pixels, model: Self.model)
        }
    }

    @Test func aDeviceRefusesAnotherModelsProgram() async throws {
        // A device made for one model cannot load the program of another: two models
        // never share a device's weights.
        let device = try [any Device].simulated(count: 1, model: Self.model)[0]
        #expect(Self.model.programName != Self.other.programName)
        await #expect(throws: DeviceError.self) {
            try await device.loadXclbin(ProgramLibrary.classifierXclbin(for: Self.other))
        }
        try await device.loadXclbin(ProgramLibrary.classifierXclbin(for: Self.model))
    }

    @Test func theIdentityIsTheModelsAndStable() {
        #expect(Self.model.identity == CNVModel.random(seed: 11).identity)
        #expect(Self.model.identity.count == 16)
        #expect(CNVModel.identity(ofProgram: Self.model.programName) == Self.model.identity)
        #expect(CNVModel.identity(ofProgram: "gzip") == nil)
        #expect(CNVModel.identity(ofProgram: "cnv-XYZ") == nil)
    }

    @Test func theJobsParametersRoundTripAndAreChecked() throws {
        let job = try ClassificationJob(model: Self.model, batchSize: 96)
        let decoded = try ClassificationJob(parameters: job.parameters)
        #expect(decoded.program == job.program && decoded.batchSize == 96)
        #expect(throws: WireError.truncated("cnv parameters batch size")) {
            _ = try ClassificationJob(parameters: [1, 0, 0])
        }
        #expect(throws: NodeError.self) { _ = try ClassificationJob(parameters: [1, 0, 0, 0] + Array("gzip".utf8)) }
        #expect(throws: ConfigurationError.invalidBatchSize(0, range: Cluster.Configuration.batchSizeRange)) {
            _ = try ClassificationJob(parameters: [0, 0, 0, 0] + Array(job.program.utf8))
        }
        #expect(JobRegistry.builtIn.handlers[ClassificationJob.kind] != nil)
    }

    @Test func batchSizesOutsideTheRangeAreRefused() throws {
        #expect(throws: ConfigurationError.invalidBatchSize(0, range: Cluster.Configuration.batchSizeRange)) {
            _ = try Cluster(devices: .simulated(count: 1), configuration: .init(batchSize: 0))
        }
    }

    @Test func badModelFilesAreClearErrors() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let bytes = Self.model.fileBytes()
        try folder.write("short.cnv", Array(bytes.dropLast(3)))
        try folder.write("v2.cnv", ClassifyTestData.modelFile(Self.model, version: 2))
        try folder.write("good.cnv", bytes)
        await #expect(
            throws: CNVModelError.file(
                folder.file("short.cnv"), .wrongSize(CNVModel.fileSize - 3, expected: CNVModel.fileSize))
        ) {
            _ = try await CNVModel.read(path: folder.file("short.cnv"))
        }
        await #expect(throws: CNVModelError.file(folder.file("v2.cnv"), .unsupportedVersion(2))) {
            _ = try await CNVModel.read(path: folder.file("v2.cnv"))
        }
        let model = try await CNVModel.read(path: folder.file("good.cnv"))
        #expect(model.identity == Self.model.identity)
        #expect(try await cluster(devices: 1, model: model).classify(Self.pixels) == Self.expected)
    }
}
