import CBinaryNet

/// The CNV-W1A1 network as a fast bit-packed inference engine: XNOR-popcount over
/// activations packed 64 channels to a word, conv0 in 16-bit integers, OR pooling, and
/// integer thresholds, with the CPU's vector popcount where it has one.
///
/// The engine repacks the model once, at init, and never changes afterwards: any number of
/// threads may call it at once. Its calls are synchronous and CPU-bound (about 60 million
/// binary multiply-accumulates per image); run them on a dedicated thread, such as a
/// simulated compute unit's, never on the cooperative pool.
///
/// ```swift
/// let engine = try CNVEngine(model: try CNVModel(fileBytes: bytes))
/// let classes = try engine.classify(images)  // images: NHWC uint8, 3072 bytes each
/// ```
public final class CNVEngine: @unchecked Sendable {
    // Sendable: `network` and every buffer it points to are written in init only; after
    // that they are only read (cbn_infer takes them as const), and deinit frees them.

    /// The model the engine runs.
    public let model: CNVModel
    /// The kernel variant the engine uses.
    public let kernel: Kernel
    private let network: UnsafeMutablePointer<cbn_network>
    private let allocations: [UnsafeMutableRawPointer]

    /// Repacks `model` for `kernel` (the fastest one this CPU runs, by default).
    public init(model: CNVModel, kernel: Kernel = .best) throws(CNVEngineError) {
        guard Kernel.supported.contains(kernel) else { throw .kernelUnsupported(kernel.description) }
        self.model = model
        self.kernel = kernel
        let packed = CNVPackedNetwork(model: model)
        var allocations: [UnsafeMutableRawPointer] = []
        func store<T>(_ values: [T]) -> UnsafePointer<T> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: values.count * MemoryLayout<T>.stride, alignment: 64)
            let typed = raw.initializeMemory(as: T.self, from: values, count: values.count)
            allocations.append(raw)
            return UnsafePointer(typed)
        }
        var network = cbn_network()
        network.conv0_weights = store(packed.conv0Weights)
        network.conv0_thresholds = store(packed.conv0Thresholds)
        network.conv0_invert = packed.conv0Invert
        let layers = packed.layers.map { layer in
            cbn_binary_layer(
                weights: store(layer.weights), thresholds: store(layer.thresholds), invert: store(layer.invert),
                taps: Int32(layer.taps), cout: Int32(layer.outputChannels))
        }
        network.layers = (layers[0], layers[1], layers[2], layers[3], layers[4], layers[5], layers[6])
        network.fc2_weights = store(packed.fc2Weights)
        withUnsafeMutableBytes(of: &network.input_codes) { codes in
            CNVInputQuantizer.codes.withUnsafeBytes { codes.copyMemory(from: $0) }
        }
        self.network = .allocate(capacity: 1)
        self.network.initialize(to: network)
        self.allocations = allocations
    }

    deinit {
        network.deallocate()
        for allocation in allocations { allocation.deallocate() }
    }

    /// Writes fc2's 10 integer accumulators for each of `count` NHWC images
    /// (``CNVModel/imageBytes`` bytes each) to `accumulators`, image after image.
    public func accumulators(
        images: UnsafeRawBufferPointer, count: Int, into accumulators: UnsafeMutableBufferPointer<Int32>
    ) throws(CNVEngineError) {
        try check(images: images, count: count)
        guard accumulators.count >= count * CNVModel.classCount else {
            throw .outputTooShort(accumulators.count, needed: count * CNVModel.classCount)
        }
        guard count > 0 else { return }
        run(images: images, count: count, accumulators: accumulators.baseAddress!, trace: nil)
    }

    /// Writes the class (0...9, one byte) of each of `count` NHWC images to `classes`:
    /// the argmax of the TensorNorm logits, the lowest index winning ties.
    public func classify(
        images: UnsafeRawBufferPointer, count: Int, into classes: UnsafeMutableRawBufferPointer
    ) throws(CNVEngineError) {
        try check(images: images, count: count)
        guard classes.count >= count else { throw .outputTooShort(classes.count, needed: count) }
        classifyChecked(images: images, count: count, into: classes)
    }

    /// The class (0...9) of each image in `images`, NHWC, 3072 bytes each.
    public func classify(_ images: [UInt8]) throws(CNVEngineError) -> [UInt8] {
        let count = try Self.imageCount(images)
        var classes = [UInt8](repeating: 0, count: count)
        images.withUnsafeBytes { pixels in
            classes.withUnsafeMutableBytes { classifyChecked(images: pixels, count: count, into: $0) }
        }
        return classes
    }

    /// fc2's 10 accumulators per image in `images`, image after image.
    public func accumulators(_ images: [UInt8]) throws(CNVEngineError) -> [Int32] {
        let count = try Self.imageCount(images)
        var accumulators = [Int32](repeating: 0, count: count * CNVModel.classCount)
        images.withUnsafeBytes { pixels in
            accumulators.withUnsafeMutableBufferPointer { output in
                run(images: pixels, count: count, accumulators: output.baseAddress!, trace: nil)
            }
        }
        return accumulators
    }

    /// The 10 Float32 logits per image in `images` (TensorNorm of the accumulators).
    public func logits(_ images: [UInt8]) throws(CNVEngineError) -> [Float] {
        try accumulators(images).map(model.tensorNorm.logit)
    }

    /// ``classify(images:count:into:)`` after its checks.
    private func classifyChecked(
        images: UnsafeRawBufferPointer, count: Int, into classes: UnsafeMutableRawBufferPointer
    ) {
        let batch = 64
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: batch * CNVModel.classCount) { scratch in
            var start = 0
            while start < count {
                let images = UnsafeRawBufferPointer(rebasing: images[(start * CNVModel.imageBytes)...])
                let n = min(batch, count - start)
                run(images: images, count: n, accumulators: scratch.baseAddress!, trace: nil)
                for image in 0..<n {
                    let accumulators = UnsafeBufferPointer(
                        rebasing: scratch[(image * CNVModel.classCount)..<((image + 1) * CNVModel.classCount)])
                    classes[start + image] = UInt8(model.tensorNorm.classify(accumulators))
                }
                start += n
            }
        }
    }

    private static func imageCount(_ images: [UInt8]) throws(CNVEngineError) -> Int {
        guard images.count % CNVModel.imageBytes == 0 else { throw .partialImage(images.count) }
        return images.count / CNVModel.imageBytes
    }

    private func check(images: UnsafeRawBufferPointer, count: Int) throws(CNVEngineError) {
        guard count >= 0 else { throw .negativeCount(count) }
        guard images.count >= count * CNVModel.imageBytes else {
            throw .inputTooShort(images.count, images: count)
        }
    }

    /// Runs cbn_infer; the caller has checked the sizes.
    func run(
        images: UnsafeRawBufferPointer, count: Int, accumulators: UnsafeMutablePointer<Int32>,
        trace: UnsafePointer<UnsafeMutablePointer<UInt64>?>?
    ) {
        guard count > 0 else { return }
        cbn_infer(
            network, Int32(kernel.rawValue), images.baseAddress!.assumingMemoryBound(to: UInt8.self), count,
            accumulators, trace)
    }
}

extension CNVEngine {
    /// The loops' variants; the engine checks at init that the CPU runs the one asked for.
    public enum Kernel: Int, CaseIterable, Sendable, CustomStringConvertible {
        /// Plain C, any CPU.
        case portable = 0
        /// Plain C with the x86-64 `popcnt` instruction.
        case popcnt = 1
        /// AVX2, with nibble-table popcounts.
        case avx2 = 2
        /// AVX-512 F, BW and VPOPCNTDQ.
        case avx512 = 3

        /// The variants this CPU runs, slowest first.
        public static let supported: [Kernel] = {
            let mask = cbn_supported_kernels()
            return allCases.filter { mask & (1 << UInt32($0.rawValue)) != 0 }
        }()

        /// The fastest variant this CPU runs.
        public static var best: Kernel { supported.last ?? .portable }

        public var description: String {
            switch self {
            case .portable: "portable"
            case .popcnt: "popcnt"
            case .avx2: "avx2"
            case .avx512: "avx512"
            }
        }
    }
}
