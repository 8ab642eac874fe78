import FPGACluster
import FPGAKernels

/// Images, models and files for the classification tests.
public enum ClassifyTestData {
    /// `count` NHWC images (3072 bytes each): the edge images all 0, all 255, all 127 and
    /// all 128 first, then seeded noise, so that classes vary.
    public static func images(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(count * ImageBatch.imageBytes)
        for image in 0..<count {
            if image < 4 {
                let value: UInt8 = [0, 255, 127, 128][image]
                pixels += [UInt8](repeating: value, count: ImageBatch.imageBytes)
            } else {
                for _ in 0..<ImageBatch.imageBytes { pixels.append(UInt8.random(in: 0...255, using: &generator)) }
            }
        }
        return pixels
    }

    /// A CIFAR-10 binary file of NHWC `pixels` and their `labels`: per image the label,
    /// then the R, G and B planes.
    public static func cifarFile(pixels: [UInt8], labels: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(labels.count * ImageBatch.cifar10RecordBytes)
        for (image, label) in labels.enumerated() {
            bytes.append(label)
            let base = image * ImageBatch.imageBytes
            for channel in 0..<3 {
                for position in 0..<1024 { bytes.append(pixels[base + 3 * position + channel]) }
            }
        }
        return bytes
    }

    /// A model file whose format version is `version` (otherwise valid).
    public static func modelFile(_ model: CNVModel, version: UInt32) -> [UInt8] {
        var bytes = model.fileBytes()
        withUnsafeBytes(of: version.littleEndian) { bytes.replaceSubrange(8..<12, with: $0) }
        return bytes
    }
}
