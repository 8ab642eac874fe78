import CBinaryNet

/// One layer's ±1 output for one image, as the engine computed it (for tests).
struct CNVLayerOutput {
    var name: String
    var channels: Int
    var height: Int
    var width: Int
    /// NHWC bits, channels / 64 words per pixel.
    var words: ArraySlice<UInt64>

    /// +1 or -1 at channel `c`, row `y`, column `x`.
    func value(channel c: Int, y: Int, x: Int) -> Int {
        let word = words[words.startIndex + (y * width + x) * (channels / 64) + c / 64]
        return word >> UInt64(c % 64) & 1 == 1 ? 1 : -1
    }
}

extension CNVEngine {
    /// The bit tensors cbn_infer traces, in order: (name, channels, height and width).
    static let tracedLayers: [(name: String, channels: Int, size: Int)] = [
        ("conv0", 64, 30), ("conv1", 64, 28), ("pool1", 64, 14), ("conv2", 128, 12), ("conv3", 128, 10),
        ("pool3", 128, 5), ("conv4", 256, 3), ("conv5", 256, 1), ("fc0", 512, 1), ("fc1", 512, 1),
    ]

    /// Every layer's output and fc2's accumulators for each image in `images`.
    func trace(_ images: [UInt8]) throws(CNVEngineError) -> [(layers: [CNVLayerOutput], accumulators: [Int32])] {
        guard images.count % CNVModel.imageBytes == 0 else { throw .partialImage(images.count) }
        let count = images.count / CNVModel.imageBytes
        let sizes = (0..<Int32(CBN_TRACE_COUNT)).map { cbn_trace_words($0) }
        let pointers = sizes.map { UnsafeMutablePointer<UInt64>.allocate(capacity: $0 * count) }
        defer { for pointer in pointers { pointer.deallocate() } }
        var accumulators = [Int32](repeating: 0, count: count * CNVModel.classCount)
        let traced: [UnsafeMutablePointer<UInt64>?] = pointers
        images.withUnsafeBytes { pixels in
            accumulators.withUnsafeMutableBufferPointer { output in
                traced.withUnsafeBufferPointer { trace in
                    run(images: pixels, count: count, accumulators: output.baseAddress!, trace: trace.baseAddress)
                }
            }
        }
        let buffers = sizes.indices.map { Array(UnsafeBufferPointer(start: pointers[$0], count: sizes[$0] * count)) }
        return (0..<count).map { image in
            let layers = Self.tracedLayers.enumerated().map { index, layer in
                let size = sizes[index]
                return CNVLayerOutput(
                    name: layer.name, channels: layer.channels, height: layer.size, width: layer.size,
                    words: buffers[index][(image * size)..<((image + 1) * size)])
            }
            return (layers, Array(accumulators[(image * 10)..<((image + 1) * 10)]))
        }
    }
}
