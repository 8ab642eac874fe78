extension CNVModel {
    /// A random model for tests and benchmarks, the same for the same seed.
    ///
    /// Weights are uniform random bits. Thresholds lie where the accumulators fall (about
    /// one standard deviation either side of 0, and on the multiples of 127 and 128 that
    /// uniform images give in conv0), so activations vary and equal the threshold often;
    /// both directions occur, and a few channels are constants (the gamma == 0 encoding).
    /// TensorNorm's weight is negative for some seeds.
    public static func random(seed: UInt64) -> CNVModel {
        var generator = SplitMix64(seed: seed)
        var weights: [[UInt8]] = []
        var thresholds: [[Threshold]] = []
        for (index, shape) in layerShapes.enumerated() {
            weights.append((0..<shape.weightCount / 8).map { _ in UInt8.random(in: 0...255, using: &generator) })
            guard index < layerShapes.count - 1 else { break }
            let spread = index == 0 ? 400 : Int(Double(shape.fanIn).squareRoot())
            thresholds.append(
                (0..<shape.outputChannels).map { _ in
                    randomThreshold(spread: spread, conv0: index == 0, using: &generator)
                })
        }
        let magnitude = Float.random(in: 0.1...3, using: &generator)
        let tensorNorm = TensorNorm(
            mean: Float.random(in: -20...20, using: &generator),
            variance: Float.random(in: 0.5...400, using: &generator),
            weight: Bool.random(using: &generator) ? magnitude : -magnitude,
            bias: Float.random(in: -1...1, using: &generator))
        // The parts have the sizes of the table above.
        return try! CNVModel(weights: weights, thresholds: thresholds, tensorNorm: tensorNorm)
    }

    private static func randomThreshold(spread: Int, conv0: Bool, using generator: inout SplitMix64) -> Threshold {
        let direction: Threshold.Direction = Bool.random(using: &generator) ? .atLeast : .atMost
        switch Int.random(in: 0..<32, using: &generator) {
        case 0: return Threshold(.min, .atLeast)  // always +1
        case 1: return Threshold(.max, .atLeast)  // always -1
        case 2...9 where conv0:
            // Uniform images give conv0 accumulators of -128 or 127 times a weight sum.
            let step: Int32 = Bool.random(using: &generator) ? 128 : 127
            return Threshold(step * Int32.random(in: -5...5, using: &generator), direction)
        default:
            return Threshold(Int32(Int.random(in: -spread...spread, using: &generator)), direction)
        }
    }
}

/// A small seeded random number generator (SplitMix64), for reproducible test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
