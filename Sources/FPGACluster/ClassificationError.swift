/// Why a cluster cannot classify with the model asked for.
public enum ClassificationError: Error, Hashable, CustomStringConvertible, Sendable {
    /// No node has a classifier program (for `model`, the identity asked for, if any).
    case noClassifier(model: String?)
    /// A node has classifier programs, none of them for the model asked for: a worker
    /// started with another model.
    case modelMismatch(node: String, expected: String, found: [String])
    /// No model was given and the nodes have classifiers for several models.
    case severalModels([String])
    /// A node answered a batch with the wrong number of classes or a class above 9.
    case badClasses(count: Int, images: Int)

    public var description: String {
        switch self {
        case .noClassifier(let model?): "no device in the cluster has model \(model)"
        case .noClassifier(nil): "no device in the cluster has a classification model"
        case .modelMismatch(let node, let expected, let found):
            "model mismatch: node \(node) has model \(found.joined(separator: ", ")), not \(expected)"
        case .severalModels(let models):
            "the cluster's devices have \(models.count) different models (\(models.joined(separator: ", "))): say which"
        case .badClasses(let count, let images):
            "a device answered \(images) images with \(count) classes, or a class outside 0...9"
        }
    }
}
