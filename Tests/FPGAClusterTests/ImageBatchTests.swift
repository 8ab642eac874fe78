import FPGACluster
import FPGAKernels
import FPGATestSupport
import Testing

@Suite("image and model input files")
struct ImageBatchTests {
    /// A distinct value for every (image, channel, row, column).
    static func pixel(_ image: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: image * 37 + c * 101 + y * 7 + x * 3 + (y * x) / 5)
    }

    /// A CIFAR-10 binary file: label, then the R, G and B planes, 32 rows of 32 each.
    static func cifarFile(labels: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (image, label) in labels.enumerated() {
            bytes.append(label)
            for c in 0..<3 {
                for y in 0..<32 {
                    for x in 0..<32 { bytes.append(pixel(image, c, y, x)) }
                }
            }
        }
        return bytes
    }

    @Test("a CIFAR-10 file becomes NHWC images with their labels")
    func cifarToNHWC() async throws {
        let labels: [UInt8] = [3, 0, 9]
        let bytes = Self.cifarFile(labels: labels)
        #expect(bytes.count == 3 * 3073)
        let batch = try ImageBatch(cifar10: bytes)
        #expect(batch.count == 3)
        #expect(batch.labels == labels)
        for image in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 {
                    for c in 0..<3 {
                        #expect(batch.pixels[image * 3072 + (y * 32 + x) * 3 + c] == Self.pixel(image, c, y, x))
                    }
                }
            }
        }
        #expect(batch.accuracy(of: [3, 1, 9]) == 2.0 / 3.0)

        let folder = try TemporaryDirectory("cnv-input")
        defer { folder.remove() }
        try folder.write("test_batch.bin", bytes)
        #expect(try await ImageBatch.read(path: folder.file("test_batch.bin")) == batch)
        // The same bytes as raw NHWC images keep their order.
        try folder.write("images.raw", batch.pixels)
        let raw = try await ImageBatch.read(path: folder.file("images.raw"))
        #expect(raw.pixels == batch.pixels && raw.labels == nil)
    }

    @Test("lengths that are not whole records are typed errors")
    func badLengths() async throws {
        let good = Self.cifarFile(labels: [1, 2])
        #expect(throws: ImageFileError.cifar10Length(6147)) { try ImageBatch(cifar10: good + [0]) }
        #expect(throws: ImageFileError.cifar10Length(3072)) { try ImageBatch(cifar10: Array(good[0..<3072])) }
        #expect(throws: ImageFileError.rawLength(3071)) { try ImageBatch(rawNHWC: [UInt8](repeating: 0, count: 3071)) }
        #expect(throws: ImageFileError.rawLength(6145)) { try ImageBatch(rawNHWC: [UInt8](repeating: 0, count: 6145)) }
        #expect(try ImageBatch(rawNHWC: []).count == 0)
        var badLabel = good
        badLabel[3073] = 10
        #expect(throws: ImageFileError.labelOutOfRange(10, image: 1)) { try ImageBatch(cifar10: badLabel) }

        let folder = try TemporaryDirectory("cnv-input")
        defer { folder.remove() }
        try folder.write("test_batch.bin", good + [0])
        let path = folder.file("test_batch.bin")
        await #expect(throws: ImageFileError.file(path, .cifar10Length(6147))) {
            try await ImageBatch.read(path: path)
        }
        try folder.write("odd.bin", [UInt8](repeating: 0, count: 100))
        await #expect(throws: ImageFileError.file(folder.file("odd.bin"), .unknownFormat(100))) {
            try await ImageBatch.read(path: folder.file("odd.bin"))
        }
        await #expect(throws: FileJobError.inputNotFound(folder.file("missing.bin"))) {
            try await ImageBatch.read(path: folder.file("missing.bin"))
        }
        let message = ImageFileError.file("x.bin", .rawLength(5)).description
        #expect(message == "x.bin: 5 bytes is not a whole number of 3072-byte NHWC images (5 bytes left over)")
    }

    @Test("the format is guessed from the name, then the length")
    func guessFormat() {
        #expect(ImageFileFormat.guess(path: "a/test_batch.bin", byteCount: 3073 * 3072) == .cifar10)
        #expect(ImageFileFormat.guess(path: "data_batch_3.bin", byteCount: 3073) == .cifar10)
        #expect(ImageFileFormat.guess(path: "images.bin", byteCount: 3073 * 2) == .cifar10)
        #expect(ImageFileFormat.guess(path: "images.bin", byteCount: 3072 * 5) == .rawNHWC)
        #expect(ImageFileFormat.guess(path: "images.bin", byteCount: 3073 * 3072) == .rawNHWC)
        #expect(ImageFileFormat.guess(path: "images.bin", byteCount: 10) == nil)
    }

    @Test("model files read back; wrong sizes name the real size")
    func modelFiles() async throws {
        let model = CNVModel.random(seed: 3)
        let folder = try TemporaryDirectory("cnv-model")
        defer { folder.remove() }
        try folder.write("model.bin", model.fileBytes())
        #expect(try await CNVModel.read(path: folder.file("model.bin")) == model)
        let size = CNVModel.fileSize
        for (name, bytes) in [
            ("long.bin", model.fileBytes() + [UInt8](repeating: 0, count: 1000)),
            ("short.bin", Array(model.fileBytes().dropLast())),
        ] {
            try folder.write(name, bytes)
            await #expect(throws: CNVModelError.file(folder.file(name), .wrongSize(bytes.count, expected: size))) {
                try await CNVModel.read(path: folder.file(name))
            }
        }
    }
}
