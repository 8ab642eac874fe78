/// Images to classify: 32 x 32 RGB pixels, NHWC uint8 (3072 bytes per image, R, G, B per
/// pixel, row after row), with one label per image when the input had them.
public struct ImageBatch: Sendable, Hashable {
    /// Bytes per image.
    public static let imageBytes = 32 * 32 * 3
    /// Bytes per CIFAR-10 record: one label byte, then the image channel-planar.
    public static let cifar10RecordBytes = 1 + imageBytes
    /// CIFAR-10 has 10 classes; labels are 0...9.
    public static let classCount = 10

    /// The images, NHWC, one after another.
    public let pixels: [UInt8]
    /// One label (0...9) per image, or nil.
    public let labels: [UInt8]?

    /// The number of images.
    public var count: Int { pixels.count / Self.imageBytes }

    /// Images from NHWC pixels and optional labels, checked.
    public init(pixels: [UInt8], labels: [UInt8]? = nil) throws(ImageFileError) {
        guard pixels.count % Self.imageBytes == 0 else { throw .rawLength(pixels.count) }
        if let labels {
            let count = pixels.count / Self.imageBytes
            guard labels.count == count else { throw .labelCount(labels.count, images: count) }
            if let image = labels.firstIndex(where: { $0 >= Self.classCount }) {
                throw .labelOutOfRange(labels[image], image: image)
            }
        }
        self.pixels = pixels
        self.labels = labels
    }

    /// Images from the bytes of a CIFAR-10 binary file (`data_batch_N.bin`,
    /// `test_batch.bin`): per record one label byte and 3072 bytes channel-planar (1024 R,
    /// 1024 G, 1024 B, each 32 rows of 32), converted to NHWC.
    public init(cifar10 bytes: [UInt8]) throws(ImageFileError) {
        let record = Self.cifar10RecordBytes
        guard bytes.count % record == 0 else { throw .cifar10Length(bytes.count) }
        let count = bytes.count / record
        var pixels = [UInt8](repeating: 0, count: count * Self.imageBytes)
        var labels = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                for image in 0..<count {
                    let base = image * record
                    labels[image] = input[base]
                    let planes = base + 1
                    let target = image * Self.imageBytes
                    for position in 0..<1024 {
                        output[target + 3 * position] = input[planes + position]
                        output[target + 3 * position + 1] = input[planes + 1024 + position]
                        output[target + 3 * position + 2] = input[planes + 2048 + position]
                    }
                }
            }
        }
        try self.init(pixels: pixels, labels: labels)
    }

    /// Images from raw NHWC bytes (a multiple of 3072), without labels.
    public init(rawNHWC bytes: [UInt8]) throws(ImageFileError) {
        try self.init(pixels: bytes)
    }

    /// Images from `bytes` in `format`.
    public init(bytes: [UInt8], format: ImageFileFormat) throws(ImageFileError) {
        switch format {
        case .cifar10: try self.init(cifar10: bytes)
        case .rawNHWC: try self.init(rawNHWC: bytes)
        }
    }

    /// The fraction of `classes` equal to the labels, or nil without labels.
    public func accuracy(of classes: [UInt8]) -> Double? {
        guard let labels, labels.count == classes.count, !labels.isEmpty else { return nil }
        let correct = zip(labels, classes).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(correct) / Double(labels.count)
    }
}

/// The layout of an image file.
public enum ImageFileFormat: String, Sendable, Hashable, CaseIterable {
    /// CIFAR-10 binary: records of one label byte and 3072 channel-planar bytes.
    case cifar10
    /// NHWC uint8, 3072 bytes per image, no labels.
    case rawNHWC

    /// The format a file most likely has: CIFAR-10 for its file names
    /// (`data_batch_N.bin`, `test_batch.bin`, whatever their length), else CIFAR-10 when only
    /// 3073 divides the length and raw when 3072 does; nil when neither does.
    public static func guess(path: String, byteCount: Int) -> ImageFileFormat? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name == "test_batch.bin" || (name.hasPrefix("data_batch_") && name.hasSuffix(".bin")) { return .cifar10 }
        if byteCount % ImageBatch.imageBytes == 0 { return .rawNHWC }
        return byteCount % ImageBatch.cifar10RecordBytes == 0 ? .cifar10 : nil
    }
}

/// Why bytes are not a valid image file.
public enum ImageFileError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A CIFAR-10 file whose length is not a multiple of 3073 bytes.
    case cifar10Length(Int)
    /// Raw NHWC bytes whose length is not a multiple of 3072.
    case rawLength(Int)
    /// A label outside 0...9.
    case labelOutOfRange(UInt8, image: Int)
    /// A label count other than the image count.
    case labelCount(Int, images: Int)
    /// A file whose length fits neither format.
    case unknownFormat(Int)
    /// One of the errors above, in a file.
    indirect case file(String, ImageFileError)

    public var description: String {
        switch self {
        case .cifar10Length(let bytes):
            "\(bytes) bytes is not a whole number of 3073-byte CIFAR-10 records (\(bytes % 3073) bytes left over)"
        case .rawLength(let bytes):
            "\(bytes) bytes is not a whole number of 3072-byte NHWC images (\(bytes % 3072) bytes left over)"
        case .labelOutOfRange(let label, let image): "image \(image) has label \(label); CIFAR-10 labels are 0...9"
        case .labelCount(let labels, let images): "\(labels) labels for \(images) images"
        case .unknownFormat(let bytes):
            "\(bytes) bytes is a whole number neither of 3073-byte CIFAR-10 records nor of 3072-byte NHWC images"
        case .file(let path, let error): "\(path): \(error)"
        }
    }
}
