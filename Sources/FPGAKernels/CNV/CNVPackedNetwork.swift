/// A model repacked into the layouts the C loops read (see CBinaryNet.h).
///
/// Activations are NHWC bits, channel c at bit c % 64 of word c / 64 of its pixel, so a
/// conv window is (ky, kx, word) and each of its three rows is contiguous. A binary
/// layer's weights are grouped 8 output channels at a time, `[Cout / 8][taps][8]` words,
/// so one vector load gives one tap of 8 channels. Thresholds are rewritten on the count
/// of disagreeing bits d (acc = K - 2d): output = (d >= D) XOR invert.
struct CNVPackedNetwork {
    struct BinaryLayer {
        var weights: [UInt64]
        var thresholds: [Int64]
        var invert: [UInt8]
        var taps: Int
        var outputChannels: Int
    }

    /// `[27][64]` +1/-1, tap = (ky * 3 + kx) * 3 + c.
    var conv0Weights: [Int16]
    /// output = (acc >= threshold) XOR invert bit.
    var conv0Thresholds: [Int16]
    var conv0Invert: UInt64
    /// conv1 ... conv5, fc0, fc1.
    var layers: [BinaryLayer]
    /// `[10][8]` words.
    var fc2Weights: [UInt64]

    /// conv0's accumulators lie within 27 * 128; thresholds beyond this act the same.
    static let conv0Limit = 4000

    init(model: CNVModel) {
        let shapes = CNVModel.layerShapes
        conv0Weights = [Int16](repeating: 0, count: 27 * 64)
        for co in 0..<64 {
            for c in 0..<3 {
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        let index = ((co * 3 + c) * 3 + ky) * 3 + kx
                        conv0Weights[((ky * 3 + kx) * 3 + c) * 64 + co] = Int16(model.weight(layer: 0, index: index))
                    }
                }
            }
        }
        conv0Thresholds = []
        conv0Invert = 0
        for (channel, threshold) in model.thresholds[0].enumerated() {
            // acc <= T is the complement of acc >= T + 1.
            let atMost = threshold.direction == .atMost
            let value = Int64(threshold.value) + (atMost ? 1 : 0)
            let limit = Int64(Self.conv0Limit)
            conv0Thresholds.append(Int16(min(max(value, -limit), limit)))
            if atMost { conv0Invert |= 1 << UInt64(channel) }
        }
        layers = (1...7).map { Self.pack(model: model, layer: $0, shape: shapes[$0]) }
        fc2Weights = [UInt64](repeating: 0, count: 10 * 8)
        for o in 0..<10 {
            for j in 0..<512 where model.weight(layer: 8, index: o * 512 + j) == 1 {
                fc2Weights[o * 8 + j / 64] |= 1 << UInt64(j % 64)
            }
        }
    }

    private static func pack(model: CNVModel, layer: Int, shape: CNVModel.LayerShape) -> BinaryLayer {
        let cin = shape.inputChannels
        let cout = shape.outputChannels
        let words = cin / 64
        let taps = shape.isConvolution ? 9 * words : words
        var weights = [UInt64](repeating: 0, count: cout * taps)
        for co in 0..<cout {
            for ci in 0..<cin {
                for k in 0..<(shape.isConvolution ? 9 : 1) {
                    // PyTorch flat index: ((co * Cin + ci) * 3 + ky) * 3 + kx, or co * in + ci.
                    let index = (co * cin + ci) * (shape.isConvolution ? 9 : 1) + k
                    guard model.weight(layer: layer, index: index) == 1 else { continue }
                    let tap = k * words + ci / 64
                    weights[((co / 8) * taps + tap) * 8 + co % 8] |= 1 << UInt64(ci % 64)
                }
            }
        }
        let fanIn = Int64(shape.fanIn)
        var thresholds: [Int64] = []
        var invert = [UInt8](repeating: 0, count: cout / 8)
        for (channel, threshold) in model.thresholds[layer].enumerated() {
            // acc = K - 2d. acc >= T <=> d <= floor((K - T) / 2) <=> not (d >= that + 1);
            // acc <= T <=> d >= ceil((K - T) / 2).
            let difference = fanIn - Int64(threshold.value)
            let bound: Int64
            if threshold.direction == .atLeast {
                bound = floorDivide(difference, 2) + 1
                invert[channel / 8] |= 1 << UInt8(channel % 8)
            } else {
                bound = -floorDivide(-difference, 2)
            }
            // d lies in 0...K: bounds outside 0...K + 1 act like the nearest one.
            thresholds.append(min(max(bound, 0), fanIn + 1))
        }
        return BinaryLayer(weights: weights, thresholds: thresholds, invert: invert, taps: taps, outputChannels: cout)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
