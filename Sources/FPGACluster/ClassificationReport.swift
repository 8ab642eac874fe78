/// What a classification over the cluster did.
public struct ClassificationReport: Sendable, Hashable {
    /// One class index (0...9) per image, in input order.
    public var classes: [UInt8]
    /// Images whose class equals their label, when the input had labels.
    public var correct: Int?
    /// Batches run by each node, by node name.
    public var batchesPerNode: [String: Int]
    /// Wall time of the classification (the images already in memory).
    public var duration: Duration

    public init(classes: [UInt8], correct: Int?, batchesPerNode: [String: Int], duration: Duration) {
        self.classes = classes
        self.correct = correct
        self.batchesPerNode = batchesPerNode
        self.duration = duration
    }

    /// The number of images.
    public var images: Int { classes.count }

    /// The fraction of images classified as labelled, when the input had labels.
    public var accuracy: Double? {
        guard let correct else { return nil }
        return classes.isEmpty ? nil : Double(correct) / Double(classes.count)
    }

    /// Images per second over ``duration``.
    public var imagesPerSecond: Double {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        return seconds > 0 ? Double(classes.count) / seconds : 0
    }
}
