import FPGACluster
import FPGAKernels
import FPGATestSupport
import Foundation
import Testing

/// `fpga-classify` as a user runs it.
@Suite("fpga-classify command line", .serialized)
struct ClassifyCommandTests {
    static let executable = WorkerProcess.executable("fpga-classify")
    static let model = CNVModel.random(seed: 31)
    static let pixels = ClassifyTestData.images(23, seed: 5)
    static let engine = try! CNVEngine(model: model)
    static let expected = try! engine.classify(pixels)

    func run(_ arguments: [String]) async throws -> (status: Int32, output: [UInt8], error: String) {
        try await ExternalTools.run([Self.executable] + arguments)
    }

    /// A folder with the model and the images raw (`images.raw`) and as CIFAR-10
    /// (`test_batch.bin`, labels the true classes but for images 0, 5, 10, 15 and 20).
    func folder() throws -> (TemporaryDirectory, labels: [UInt8]) {
        let folder = try TemporaryDirectory()
        try folder.write("model.cnv", Self.model.fileBytes())
        try folder.write("images.raw", Self.pixels)
        var labels = Self.expected
        for image in stride(from: 0, to: labels.count, by: 5) { labels[image] = (labels[image] + 3) % 10 }
        try folder.write("test_batch.bin", ClassifyTestData.cifarFile(pixels: Self.pixels, labels: labels))
        return (folder, labels)
    }

    func lines(_ classes: [UInt8]) -> [UInt8] { Array(classes.map { "\($0)\n" }.joined().utf8) }

    /// `--metrics-listen`: the dashboard's address on standard error before the summary; an
    /// address in use (a worker's metrics port) is one line, before any output is written.
    @Test func metricsListenSaysWhereTheDashboardIsOrFailsFirst() async throws {
        let (folder, _) = try folder()
        defer { folder.remove() }
        let arguments = [
            folder.file("images.raw"), "--model", folder.file("model.cnv"), "--local", "2", "-o",
            folder.file("labels.txt"),
        ]
        let served = try await run(arguments + ["--metrics-listen", "127.0.0.1:0"])
        #expect(served.status == 0, "\(served.error)")
        let messages = served.error.split(separator: "\n")
        #expect(messages.count == 2, "\(served.error)")
        #expect(
            messages.first?.wholeMatch(
                of: /fpga-classify: dashboard on http:\/\/127\.0\.0\.1:[0-9]+\/ \(metrics on \/metrics\)/) != nil,
            "\(served.error)")
        #expect(try folder.read("labels.txt") == lines(Self.expected))

        let worker = try await WorkerProcess.start(arguments: ["--metrics-listen", "127.0.0.1:0"])
        defer { worker.stop() }
        let taken = try await worker.metricsURL().dropFirst("http://".count)
        try FileManager.default.removeItem(atPath: folder.file("labels.txt"))
        let refused = try await run(arguments + ["--metrics-listen", String(taken)])
        #expect(refused.status == 1)
        #expect(refused.error == "fpga-classify: cannot serve metrics on \(taken): address already in use\n")
        #expect(try !folder.contents().contains("labels.txt"))
    }

    @Test func cifarInputPrintsTheAccuracy() async throws {
        let (folder, _) = try folder()
        defer { folder.remove() }
        #expect(Set(Self.expected).count > 2)
        let result = try await run([
            folder.file("test_batch.bin"), "--model", folder.file("model.cnv"), "--local", "2", "--batch-size", "4",
            "-o", folder.file("labels.txt"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(try folder.read("labels.txt") == lines(Self.expected))
        let summary = result.error
        #expect(summary.split(separator: "\n").count == 1, "\(summary)")
        #expect(summary.contains(": 23 images, "), "\(summary)")
        #expect(summary.contains("accuracy 78.26% (18/23)"), "\(summary)")
        #expect(summary.contains("batches sim0="), "\(summary)")
    }

    @Test func rawInputWritesClassesAndLogits() async throws {
        let (folder, _) = try folder()
        defer { folder.remove() }
        let result = try await run([
            folder.file("images.raw"), "--model", folder.file("model.cnv"), "--format", "raw", "--local", "1",
            "-o", folder.file("labels.txt"), "--logits", folder.file("logits.bin"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(!result.error.contains("accuracy"), "\(result.error)")
        #expect(try folder.read("labels.txt") == lines(Self.expected))
        let logits = try Self.engine.logits(Self.pixels)
        var bytes: [UInt8] = []
        for value in logits { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        #expect(try folder.read("logits.bin") == bytes)
        #expect(try folder.contents() == ["images.raw", "labels.txt", "logits.bin", "model.cnv", "test_batch.bin"])
    }

    @Test func workersClassifyAsLocalDevicesDo() async throws {
        let (folder, _) = try folder()
        defer { folder.remove() }
        let modelPath = folder.file("model.cnv")
        let worker = try await WorkerProcess.start(
            arguments: ["--device", "sim", "--device", "sim", "--model", modelPath])
        defer { worker.stop() }
        let result = try await run([
            folder.file("images.raw"), "--model", folder.file("model.cnv"), "--workers", worker.address,
            "--batch-size", "3", "-o", folder.file("labels.txt"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(try folder.read("labels.txt") == lines(Self.expected))

        // A client with another model is refused, in one line, and writes nothing.
        try folder.write("other.cnv", CNVModel.random(seed: 32).fileBytes())
        let mismatch = try await run([
            folder.file("images.raw"), "--model", folder.file("other.cnv"), "--workers", worker.address,
            "-o", folder.file("other.txt"),
        ])
        #expect(mismatch.status == 1)
        #expect(mismatch.error.split(separator: "\n").count == 1, "\(mismatch.error)")
        #expect(mismatch.error.contains("model mismatch"), "\(mismatch.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("other.txt")))
    }

    @Test func badInputsAreOneLineErrorsAndLeaveNothing() async throws {
        let (folder, _) = try folder()
        defer { folder.remove() }
        try folder.write("short.cnv", Array(Self.model.fileBytes().dropLast(4)))
        try folder.write("v3.cnv", ClassifyTestData.modelFile(Self.model, version: 3))
        try folder.write("odd.raw", Array(Self.pixels.dropLast(1)))
        try folder.write("odd.cifar", Array(repeating: 1, count: 3073 * 2 + 10))
        try folder.write("data_batch_1.bin", Array(repeating: 1, count: 3073 * 2 + 1))
        try folder.write("existing.txt", Array("keep\n".utf8))
        let before = try folder.contents()
        let model = folder.file("model.cnv")
        let images = folder.file("images.raw")
        let cases: [([String], String)] = [
            ([images, "--model", folder.file("short.cnv")], "version 1 has exactly \(CNVModel.fileSize)"),
            ([images, "--model", folder.file("v3.cnv")], "version 3 is not supported"),
            ([images, "--model", folder.file("absent.cnv")], "absent.cnv: no such file"),
            ([folder.file("absent.raw"), "--model", model], "absent.raw: no such file"),
            ([folder.file("odd.raw"), "--model", model, "--format", "raw"], "not a whole number of 3072-byte"),
            ([folder.file("odd.cifar"), "--model", model, "--format", "cifar10"], "not a whole number of 3073-byte"),
            ([folder.file("data_batch_1.bin"), "--model", model], "not a whole number of 3073-byte"),
            ([folder.path, "--model", model], "is a directory"),
            ([images, "--model", model, "-o", folder.file("existing.txt")], "already exists"),
        ]
        for (arguments, message) in cases {
            let outputs = arguments.contains("-o") ? [] : ["-o", folder.file("out.txt")]
            let result = try await run(arguments + outputs + ["--logits", folder.file("out.bin")])
            #expect(result.status == 1, "\(arguments)")
            let lines = result.error.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.hasPrefix("fpga-classify: ") == true, "\(result.error)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
            #expect(try folder.contents() == before, "\(arguments) left files behind")
        }
        #expect(try folder.read("existing.txt") == Array("keep\n".utf8))
        let usage = try await run([images, "--model", model, "--format", "png"])
        #expect(usage.status != 0 && usage.error.contains("--format must be cifar10 or raw"), "\(usage.error)")
    }
}
