import Dispatch
import FPGAExecution
import Testing

@testable import FPGAKernels

/// Images for the bit-exactness tests: the four uniform edge images, then random ones.
func cnvTestImages(seed: UInt64, random: Int) -> [UInt8] {
    var images: [UInt8] = []
    for value: UInt8 in [0, 255, 127, 128] { images += [UInt8](repeating: value, count: CNVModel.imageBytes) }
    var generator = SplitMix64(seed: seed)
    for _ in 0..<(random * CNVModel.imageBytes) { images.append(UInt8.random(in: 0...255, using: &generator)) }
    return images
}

/// The slow reference takes tens of seconds in a debug build; it runs here, off the
/// cooperative pool that the tests running alongside need.
let referenceThreads = BlockingThreadPool(name: "cnv-reference", threads: 2)

@Suite("CNV engine against the reference")
struct CNVEngineTests {
    @Test("every layer, accumulators, logits and class match the reference", arguments: [1, 2, 3] as [UInt64])
    func matchesReference(seed: UInt64) async throws {
        let model = CNVModel.random(seed: seed)
        let images = cnvTestImages(seed: seed &+ 100, random: 4)
        let count = images.count / CNVModel.imageBytes
        let expected = try await referenceThreads.run {
            let reference = CNVReference(fileBytes: model.fileBytes())
            return (0..<count).map { reference.run(image: images[($0 * 3072)..<(($0 + 1) * 3072)]) }
        }
        // Thresholds must be met exactly sometimes, or the comparisons would miss off-by-one errors.
        #expect(expected.map(\.boundaryHits).reduce(0, +) > 0)

        for kernel in CNVEngine.Kernel.supported {
            let engine = try CNVEngine(model: model, kernel: kernel)
            let traced = try engine.trace(images)
            let classes = try engine.classify(images)
            let logits = try engine.logits(images)
            for image in 0..<count {
                let want = expected[image]
                let got = traced[image]
                #expect(got.layers.map(\.name) == want.layers.map(\.name))
                for (fast, slow) in zip(got.layers, want.layers) {
                    let tensor = slow.tensor
                    #expect(fast.channels == tensor.channels && fast.height == tensor.height)
                    var mismatches = 0
                    for c in 0..<tensor.channels {
                        for y in 0..<tensor.height {
                            for x in 0..<tensor.width where fast.value(channel: c, y: y, x: x) != tensor[c, y, x] {
                                mismatches += 1
                            }
                        }
                    }
                    #expect(mismatches == 0, "\(kernel) image \(image) layer \(fast.name): \(mismatches) values differ")
                }
                #expect(got.accumulators.map(Int.init) == want.accumulators, "\(kernel) image \(image)")
                #expect(Array(logits[(image * 10)..<(image * 10 + 10)]) == want.logits, "\(kernel) image \(image)")
                #expect(Int(classes[image]) == want.classIndex, "\(kernel) image \(image)")
            }
        }
    }

    @Test("activations vary: no layer is constant over the test images")
    func activationsVary() throws {
        let engine = try CNVEngine(model: .random(seed: 7))
        let traced = try engine.trace(cnvTestImages(seed: 8, random: 4))
        for index in CNVEngine.tracedLayers.indices {
            let words = traced.flatMap { $0.layers[index].words }
            #expect(words.contains { $0 != 0 } && words.contains { $0 != ~0 }, "\(CNVEngine.tracedLayers[index].name)")
        }
        #expect(Set(try engine.classify(cnvTestImages(seed: 9, random: 60))).count > 1)
    }

    @Test("every kernel gives the same classes and accumulators on a batch")
    func kernelsAgree() async throws {
        let model = CNVModel.random(seed: 11)
        let images = cnvTestImages(seed: 12, random: 70)
        // The portable kernel is slow in a debug build: off the cooperative pool.
        let (expected, expectedClasses, others) = try await referenceThreads.run {
            let portable = try CNVEngine(model: model, kernel: .portable)
            let others = try CNVEngine.Kernel.supported.map { kernel in
                let engine = try CNVEngine(model: model, kernel: kernel)
                return ("\(kernel)", try engine.accumulators(images), try engine.classify(images))
            }
            return (try portable.accumulators(images), try portable.classify(images), others)
        }
        for (kernel, accumulators, classes) in others {
            #expect(accumulators == expected, "\(kernel)")
            #expect(classes == expectedClasses, "\(kernel)")
        }
        // The classes are the argmax of the logits of the accumulators, lowest index first.
        for image in 0..<(images.count / CNVModel.imageBytes) {
            let logits = expected[(image * 10)..<(image * 10 + 10)].map(model.tensorNorm.logit)
            let best = logits.indices.first { logits[$0] == logits.max()! }!
            #expect(Int(expectedClasses[image]) == best)
        }
    }

    @Test("threads share one engine")
    func concurrentCalls() throws {
        let engine = try CNVEngine(model: .random(seed: 21))
        let images = cnvTestImages(seed: 22, random: 12)
        let expected = try engine.classify(images)
        let results = ResultSlots(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { slot in
            results.set(slot, try? engine.classify(images))
        }
        for slot in 0..<4 { #expect(results.get(slot) == expected) }
    }

    @Test("the raw-buffer API checks its sizes")
    func bufferChecks() throws {
        let engine = try CNVEngine(model: .random(seed: 31))
        #expect(throws: CNVEngineError.partialImage(3073)) { try engine.classify([UInt8](repeating: 0, count: 3073)) }
        #expect(try engine.classify([]) == [])
        let images = [UInt8](repeating: 9, count: 2 * CNVModel.imageBytes)
        var classes = [UInt8](repeating: 0xEE, count: 3)
        try images.withUnsafeBytes { pixels in
            try classes.withUnsafeMutableBytes { output in
                #expect(throws: CNVEngineError.inputTooShort(6144, images: 3)) {
                    try engine.classify(images: pixels, count: 3, into: output)
                }
                #expect(throws: CNVEngineError.outputTooShort(1, needed: 2)) {
                    try engine.classify(
                        images: pixels, count: 2, into: UnsafeMutableRawBufferPointer(rebasing: output[0..<1]))
                }
                #expect(throws: CNVEngineError.negativeCount(-1)) {
                    try engine.classify(images: pixels, count: -1, into: output)
                }
                try engine.classify(images: pixels, count: 2, into: output)
            }
        }
        let expected = try engine.classify(images)
        #expect(Array(classes[0..<2]) == expected)
        #expect(classes[2] == 0xEE)
        var accumulators = [Int32](repeating: 0, count: 19)
        images.withUnsafeBytes { pixels in
            accumulators.withUnsafeMutableBufferPointer { output in
                let error = #expect(throws: CNVEngineError.self) {
                    try engine.accumulators(images: pixels, count: 2, into: output)
                }
                #expect(error == .outputTooShort(19, needed: 20))
            }
        }
        for error in [CNVEngineError.partialImage(1), .kernelUnsupported("avx512"), .inputTooShort(1, images: 1)] {
            #expect(!error.description.contains("\n"))
        }
    }
}

/// Slots that concurrent iterations fill, each its own.
private final class ResultSlots: @unchecked Sendable {
    // Sendable: every access holds `lock`.
    private let lock = DispatchSemaphore(value: 1)
    private var values: [[UInt8]?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: [UInt8]?) {
        lock.wait()
        values[index] = value
        lock.signal()
    }

    func get(_ index: Int) -> [UInt8]? {
        lock.wait()
        defer { lock.signal() }
        return values[index]
    }
}
