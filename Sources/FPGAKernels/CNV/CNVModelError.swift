/// Why bytes are not a valid CNV-W1A1 model (file format version 1).
public enum CNVModelError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The file is not the one size version 1 has.
    case wrongSize(Int, expected: Int)
    /// The first 8 bytes are not `CNVW1A1\0`.
    case badMagic
    /// A format version this reader does not know.
    case unsupportedVersion(UInt32)
    /// The reserved header word is not 0.
    case reservedNotZero(UInt32)
    /// A threshold direction other than +1 or -1.
    case badDirection(layer: String, channel: Int, value: Int32)
    /// TensorNorm parameters that give no finite logits.
    case badTensorNorm(String)
    /// A model built in code with the wrong number of layers.
    case wrongLayerCount(Int, expected: Int)
    /// A model built in code with the wrong number of weight bytes in a layer.
    case wrongWeightCount(layer: String, bytes: Int, expected: Int)
    /// A model built in code with the wrong number of thresholds in a layer.
    case wrongThresholdCount(layer: String, count: Int, expected: Int)
    /// One of the errors above, in a file.
    indirect case file(String, CNVModelError)

    public var description: String {
        switch self {
        case .wrongSize(let size, let expected):
            "CNV model file is \(size) bytes; version 1 has exactly \(expected)"
        case .badMagic: "not a CNV-W1A1 model file (no CNVW1A1 magic)"
        case .unsupportedVersion(let version): "CNV model file version \(version) is not supported (only 1)"
        case .reservedNotZero(let value): "CNV model file header: reserved word is \(value), not 0"
        case .badDirection(let layer, let channel, let value):
            "CNV model file: \(layer) channel \(channel) has threshold direction \(value), not +1 or -1"
        case .badTensorNorm(let reason): "CNV model file: TensorNorm \(reason)"
        case .wrongLayerCount(let count, let expected): "CNV model has \(count) layers, not \(expected)"
        case .wrongWeightCount(let layer, let bytes, let expected):
            "CNV model: \(layer) has \(bytes) weight bytes, not \(expected)"
        case .wrongThresholdCount(let layer, let count, let expected):
            "CNV model: \(layer) has \(count) thresholds, not \(expected)"
        case .file(let path, let error): "\(path): \(error)"
        }
    }
}
