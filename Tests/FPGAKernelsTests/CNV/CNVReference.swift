import FPGAKernels

/// A plain, slow CNV-W1A1, written from the network description (shared/reference/cnv-w1a1.md)
/// and the model file format alone, independently of CNVEngine: ±1 and int8 values in
/// [C][H][W] arrays, integer accumulators, straightforward loops.
struct CNVReference {
    /// A [C][H][W] tensor of integers.
    struct Tensor {
        var channels: Int
        var height: Int
        var width: Int
        var values: [Int]

        init(channels: Int, height: Int, width: Int) {
            self.channels = channels
            self.height = height
            self.width = width
            values = [Int](repeating: 0, count: channels * height * width)
        }

        subscript(c: Int, y: Int, x: Int) -> Int {
            get { values[(c * height + y) * width + x] }
            set { values[(c * height + y) * width + x] = newValue }
        }
    }

    /// Everything one image gives.
    struct Result {
        /// conv0, conv1, pool1, conv2, conv3, pool3, conv4, conv5, fc0, fc1: ±1 values.
        var layers: [(name: String, tensor: Tensor)]
        var accumulators: [Int]
        var logits: [Float]
        var classIndex: Int
        /// How many channel outputs had an accumulator exactly on their threshold.
        var boundaryHits: Int
    }

    struct Layer {
        var cin: Int
        var cout: Int
        var conv: Bool
        /// ±1, PyTorch flat order.
        var weights: [Int]
        /// (T, direction) per output channel; empty for fc2.
        var thresholds: [(value: Int, direction: Int)]
    }

    let layers: [Layer]
    let tensorNorm: (mean: Float, variance: Float, weight: Float, bias: Float, epsilon: Float)

    /// Decodes the model from its version 1 file bytes, following the format description.
    init(fileBytes bytes: [UInt8]) {
        func u32(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
        }
        let table: [(cin: Int, cout: Int, conv: Bool)] = [
            (3, 64, true), (64, 64, true), (64, 128, true), (128, 128, true), (128, 256, true), (256, 256, true),
            (256, 512, false), (512, 512, false), (512, 10, false),
        ]
        var offset = 16
        var layers: [Layer] = []
        for (index, entry) in table.enumerated() {
            let count = entry.cout * entry.cin * (entry.conv ? 9 : 1)
            let weights = (0..<count).map { i in bytes[offset + i / 8] >> (i % 8) & 1 == 1 ? 1 : -1 }
            offset += count / 8
            var thresholds: [(value: Int, direction: Int)] = []
            if index < 8 {
                for _ in 0..<entry.cout {
                    thresholds.append(
                        (Int(Int32(bitPattern: u32(offset))), Int(Int32(bitPattern: u32(offset + 4)))))
                    offset += 8
                }
            }
            layers.append(
                Layer(cin: entry.cin, cout: entry.cout, conv: entry.conv, weights: weights, thresholds: thresholds))
        }
        let floats = (0..<5).map { Float(bitPattern: u32(offset + 4 * $0)) }
        self.layers = layers
        tensorNorm = (floats[0], floats[1], floats[2], floats[3], floats[4])
    }

    /// The int8 code of a pixel, from the documented ranges.
    static func code(_ pixel: UInt8) -> Int {
        switch pixel {
        case 0...127: Int(pixel) - 128
        case 255: 127
        default: Int(pixel) - 127
        }
    }

    /// Runs one NHWC image (3072 bytes).
    func run(image: ArraySlice<UInt8>) -> Result {
        var input = Tensor(channels: 3, height: 32, width: 32)
        for y in 0..<32 {
            for x in 0..<32 {
                for c in 0..<3 { input[c, y, x] = Self.code(image[image.startIndex + (y * 32 + x) * 3 + c]) }
            }
        }
        var hits = 0
        var outputs: [(String, Tensor)] = []
        var a = activate(conv(input, layers[0]), layers[0], &hits)
        outputs.append(("conv0", a))
        a = activate(conv(a, layers[1]), layers[1], &hits)
        outputs.append(("conv1", a))
        a = maxPool(a)
        outputs.append(("pool1", a))
        a = activate(conv(a, layers[2]), layers[2], &hits)
        outputs.append(("conv2", a))
        a = activate(conv(a, layers[3]), layers[3], &hits)
        outputs.append(("conv3", a))
        a = maxPool(a)
        outputs.append(("pool3", a))
        a = activate(conv(a, layers[4]), layers[4], &hits)
        outputs.append(("conv4", a))
        a = activate(conv(a, layers[5]), layers[5], &hits)
        outputs.append(("conv5", a))
        // Flatten [256, 1, 1] -> [256].
        var vector = (0..<256).map { a[$0, 0, 0] }
        for (index, name) in [(6, "fc0"), (7, "fc1")] {
            let acc = dense(vector, layers[index])
            vector = (0..<acc.count).map { o in fires(acc[o], layers[index].thresholds[o], &hits) ? 1 : -1 }
            var tensor = Tensor(channels: vector.count, height: 1, width: 1)
            tensor.values = vector
            outputs.append((name, tensor))
        }
        let accumulators = dense(vector, layers[8])
        let logits = accumulators.map { acc -> Float in
            let normalised = (Float(acc) - tensorNorm.mean) / (tensorNorm.variance + tensorNorm.epsilon).squareRoot()
            return normalised * tensorNorm.weight + tensorNorm.bias
        }
        var best = 0
        for c in 1..<logits.count where logits[c] > logits[best] { best = c }
        return Result(
            layers: outputs, accumulators: accumulators, logits: logits, classIndex: best, boundaryHits: hits)
    }

    /// 3x3 convolution, no padding, stride 1: integer accumulators.
    func conv(_ input: Tensor, _ layer: Layer) -> Tensor {
        var output = Tensor(channels: layer.cout, height: input.height - 2, width: input.width - 2)
        input.values.withUnsafeBufferPointer { a in
            layer.weights.withUnsafeBufferPointer { w in
                for co in 0..<layer.cout {
                    for y in 0..<output.height {
                        for x in 0..<output.width {
                            var acc = 0
                            for ci in 0..<layer.cin {
                                for ky in 0..<3 {
                                    for kx in 0..<3 {
                                        let value = a[(ci * input.height + y + ky) * input.width + x + kx]
                                        acc += value * w[((co * layer.cin + ci) * 3 + ky) * 3 + kx]
                                    }
                                }
                            }
                            output[co, y, x] = acc
                        }
                    }
                }
            }
        }
        return output
    }

    func dense(_ input: [Int], _ layer: Layer) -> [Int] {
        (0..<layer.cout).map { o in
            (0..<layer.cin).reduce(0) { $0 + input[$1] * layer.weights[o * layer.cin + $1] }
        }
    }

    func fires(_ acc: Int, _ threshold: (value: Int, direction: Int), _ hits: inout Int) -> Bool {
        if acc == threshold.value { hits += 1 }
        return threshold.direction == 1 ? acc >= threshold.value : acc <= threshold.value
    }

    func activate(_ acc: Tensor, _ layer: Layer, _ hits: inout Int) -> Tensor {
        var output = acc
        for c in 0..<acc.channels {
            for y in 0..<acc.height {
                for x in 0..<acc.width {
                    output[c, y, x] = fires(acc[c, y, x], layer.thresholds[c], &hits) ? 1 : -1
                }
            }
        }
        return output
    }

    func maxPool(_ input: Tensor) -> Tensor {
        var output = Tensor(channels: input.channels, height: input.height / 2, width: input.width / 2)
        for c in 0..<input.channels {
            for y in 0..<output.height {
                for x in 0..<output.width {
                    output[c, y, x] = max(
                        input[c, 2 * y, 2 * x], input[c, 2 * y, 2 * x + 1], input[c, 2 * y + 1, 2 * x],
                        input[c, 2 * y + 1, 2 * x + 1])
                }
            }
        }
        return output
    }
}
