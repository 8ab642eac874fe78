extension CNVModel {
    /// `CNVW1A1` and a zero byte.
    public static let fileMagic: [UInt8] = Array("CNVW1A1".utf8) + [0]
    /// The only format version this reader knows.
    public static let fileVersion: UInt32 = 1
    /// Magic, version and reserved word.
    public static let fileHeaderSize = 16
    /// The one size of a version 1 file: the header, then per layer its weight bits and
    /// either 8 bytes per output channel (threshold and direction) or, for fc2, the five
    /// Float32 TensorNorm values.
    public static let fileSize: Int = {
        var size = fileHeaderSize
        for (index, shape) in layerShapes.enumerated() {
            size += shape.weightCount / 8
            size += index < layerShapes.count - 1 ? 8 * shape.outputChannels : 5 * 4
        }
        return size
    }()

    /// Reads a model file's bytes, checking magic, version, reserved word, size,
    /// directions and TensorNorm.
    public init(fileBytes: some Collection<UInt8>) throws(CNVModelError) {
        let bytes = Array(fileBytes)
        if bytes.count >= 8, Array(bytes[0..<8]) != Self.fileMagic { throw .badMagic }
        if bytes.count >= 12 {
            let version = Self.loadUInt32(bytes, at: 8)
            guard version == Self.fileVersion else { throw .unsupportedVersion(version) }
        }
        guard bytes.count == Self.fileSize else { throw .wrongSize(bytes.count, expected: Self.fileSize) }
        let reserved = Self.loadUInt32(bytes, at: 12)
        guard reserved == 0 else { throw .reservedNotZero(reserved) }

        var offset = Self.fileHeaderSize
        var weights: [[UInt8]] = []
        var thresholds: [[Threshold]] = []
        var tensorNorm = TensorNorm(mean: 0, variance: 1, weight: 1, bias: 0)
        for (index, shape) in Self.layerShapes.enumerated() {
            let weightBytes = shape.weightCount / 8
            weights.append(Array(bytes[offset..<offset + weightBytes]))
            offset += weightBytes
            if index < Self.layerShapes.count - 1 {
                var channels: [Threshold] = []
                channels.reserveCapacity(shape.outputChannels)
                for channel in 0..<shape.outputChannels {
                    let value = Int32(bitPattern: Self.loadUInt32(bytes, at: offset))
                    let rawDirection = Int32(bitPattern: Self.loadUInt32(bytes, at: offset + 4))
                    guard let direction = Threshold.Direction(rawValue: rawDirection) else {
                        throw .badDirection(layer: shape.name, channel: channel, value: rawDirection)
                    }
                    channels.append(Threshold(value, direction))
                    offset += 8
                }
                thresholds.append(channels)
            } else {
                let values = (0..<5).map { Float(bitPattern: Self.loadUInt32(bytes, at: offset + 4 * $0)) }
                tensorNorm = TensorNorm(
                    mean: values[0], variance: values[1], weight: values[2], bias: values[3], epsilon: values[4])
                offset += 20
            }
        }
        try self.init(weights: weights, thresholds: thresholds, tensorNorm: tensorNorm)
    }

    /// The model as a version 1 file.
    public func fileBytes() -> [UInt8] {
        var bytes = Self.fileMagic
        bytes.reserveCapacity(Self.fileSize)
        Self.append(Self.fileVersion, to: &bytes)
        Self.append(0, to: &bytes)
        for (index, layerWeights) in weights.enumerated() {
            bytes += layerWeights
            if index < thresholds.count {
                for threshold in thresholds[index] {
                    Self.append(UInt32(bitPattern: threshold.value), to: &bytes)
                    Self.append(UInt32(bitPattern: threshold.direction.rawValue), to: &bytes)
                }
            }
        }
        for value in [tensorNorm.mean, tensorNorm.variance, tensorNorm.weight, tensorNorm.bias, tensorNorm.epsilon] {
            Self.append(value.bitPattern, to: &bytes)
        }
        return bytes
    }

    private static func loadUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
