/// The weights, batch-norm thresholds and TensorNorm of one CNV-W1A1 network, as the
/// model file (format version 1) holds them.
///
/// Weights stay in the file's order: per layer, one bit per weight at the weight's
/// PyTorch flat index (`[Cout, Cin, kh, kw]` for a conv, `[out, in]` for a dense layer),
/// least significant bit first, bit 1 meaning +1. ``CNVEngine`` repacks them for speed.
public struct CNVModel: Sendable, Hashable {
    /// Per layer (``layerShapes`` order), `weightCount / 8` bytes of weight bits.
    public let weights: [[UInt8]]
    /// Per layer with a batch norm (conv0 ... fc1), one threshold per output channel.
    public let thresholds: [[Threshold]]
    /// The scalar batch norm on fc2's accumulators that gives the logits.
    public let tensorNorm: TensorNorm

    /// Makes a model from its parts, checking their sizes.
    public init(weights: [[UInt8]], thresholds: [[Threshold]], tensorNorm: TensorNorm) throws(CNVModelError) {
        guard weights.count == Self.layerShapes.count else {
            throw .wrongLayerCount(weights.count, expected: Self.layerShapes.count)
        }
        guard thresholds.count == Self.layerShapes.count - 1 else {
            throw .wrongLayerCount(thresholds.count, expected: Self.layerShapes.count - 1)
        }
        for (shape, bytes) in zip(Self.layerShapes, weights) where bytes.count != shape.weightCount / 8 {
            throw .wrongWeightCount(layer: shape.name, bytes: bytes.count, expected: shape.weightCount / 8)
        }
        for (shape, channels) in zip(Self.layerShapes, thresholds) where channels.count != shape.outputChannels {
            throw .wrongThresholdCount(layer: shape.name, count: channels.count, expected: shape.outputChannels)
        }
        try tensorNorm.validate()
        self.weights = weights
        self.thresholds = thresholds
        self.tensorNorm = tensorNorm
    }

    /// The weight of `layer` at PyTorch flat `index`: +1 or -1.
    public func weight(layer: Int, index: Int) -> Int {
        weights[layer][index >> 3] >> (index & 7) & 1 == 1 ? 1 : -1
    }
}

extension CNVModel {
    /// The shape of one layer, fixed by the network and the file format.
    public struct LayerShape: Sendable, Hashable {
        /// `conv0` ... `conv5`, `fc0` ... `fc2`.
        public let name: String
        public let inputChannels: Int
        public let outputChannels: Int
        /// A 3x3 convolution (else a dense layer).
        public let isConvolution: Bool

        /// Weights per output channel: 9 * Cin for a conv, the input count for a dense layer.
        public var fanIn: Int { isConvolution ? 9 * inputChannels : inputChannels }
        /// Weights in the layer.
        public var weightCount: Int { outputChannels * fanIn }
    }

    /// The nine layers, in file and network order.
    public static let layerShapes: [LayerShape] = [
        LayerShape(name: "conv0", inputChannels: 3, outputChannels: 64, isConvolution: true),
        LayerShape(name: "conv1", inputChannels: 64, outputChannels: 64, isConvolution: true),
        LayerShape(name: "conv2", inputChannels: 64, outputChannels: 128, isConvolution: true),
        LayerShape(name: "conv3", inputChannels: 128, outputChannels: 128, isConvolution: true),
        LayerShape(name: "conv4", inputChannels: 128, outputChannels: 256, isConvolution: true),
        LayerShape(name: "conv5", inputChannels: 256, outputChannels: 256, isConvolution: true),
        LayerShape(name: "fc0", inputChannels: 256, outputChannels: 512, isConvolution: false),
        LayerShape(name: "fc1", inputChannels: 512, outputChannels: 512, isConvolution: false),
        LayerShape(name: "fc2", inputChannels: 512, outputChannels: 10, isConvolution: false),
    ]

    /// Images are 32 x 32 pixels of 3 bytes (R, G, B), NHWC.
    public static let imageBytes = 32 * 32 * 3
    /// fc2's outputs: the CIFAR-10 classes.
    public static let classCount = 10

    /// A batch-norm channel folded into an integer threshold on the accumulator.
    public struct Threshold: Sendable, Hashable {
        /// Which side of ``value`` gives +1.
        public enum Direction: Int32, Sendable, Hashable {
            /// +1 iff acc >= value (gamma > 0, or a constant channel).
            case atLeast = 1
            /// +1 iff acc <= value (gamma < 0).
            case atMost = -1
        }

        public var value: Int32
        public var direction: Direction

        public init(_ value: Int32, _ direction: Direction) {
            self.value = value
            self.direction = direction
        }

        /// Whether accumulator `acc` gives +1.
        public func fires(_ acc: Int) -> Bool {
            direction == .atLeast ? acc >= Int(value) : acc <= Int(value)
        }
    }

    /// Brevitas's TensorNorm in eval mode: one scalar each, computed in Float32.
    public struct TensorNorm: Sendable, Hashable {
        public var mean: Float
        public var variance: Float
        public var weight: Float
        public var bias: Float
        public var epsilon: Float

        public init(mean: Float, variance: Float, weight: Float, bias: Float, epsilon: Float = 1e-4) {
            self.mean = mean
            self.variance = variance
            self.weight = weight
            self.bias = bias
            self.epsilon = epsilon
        }

        /// `((acc - mean) / sqrt(variance + epsilon)) * weight + bias`, in Float32, one
        /// rounding per operation as torch computes it.
        public func logit(_ accumulator: Int32) -> Float {
            let deviation = (variance + epsilon).squareRoot()
            let normalised = (Float(accumulator) - mean) / deviation
            return normalised * weight + bias
        }

        /// The class of 10 accumulators: the argmax of their logits, the lowest index
        /// winning ties.
        public func classify(_ accumulators: UnsafeBufferPointer<Int32>) -> Int {
            var best = 0
            var bestLogit = logit(accumulators[0])
            for index in 1..<accumulators.count {
                let value = logit(accumulators[index])
                if value > bestLogit {
                    best = index
                    bestLogit = value
                }
            }
            return best
        }

        func validate() throws(CNVModelError) {
            for (name, value) in [
                ("mean", mean), ("var", variance), ("weight", weight), ("bias", bias), ("eps", epsilon),
            ] where !value.isFinite {
                throw .badTensorNorm("\(name) is \(value)")
            }
            guard variance + epsilon > 0 else {
                throw .badTensorNorm("var + eps is \(variance + epsilon), not positive")
            }
        }
    }
}
