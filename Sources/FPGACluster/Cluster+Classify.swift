import FPGAKernels

extension Cluster {
    /// Classifies NHWC images (3072 bytes each: 32 x 32 pixels, R, G, B) with CNV-W1A1:
    /// one class index (0...9) per image, in input order.
    ///
    /// The images are cut into batches of ``Configuration/batchSize`` and scattered over
    /// every node that has the model, local or remote. Without `model`, the cluster uses
    /// the one model its nodes have; with it, a node that has a different model is an
    /// error (``ClassificationError/modelMismatch(node:expected:found:)``), never silently
    /// used. `progress` counts image bytes.
    ///
    /// Throws `ImageFileError.rawLength` when `images` is not a whole number of images and
    /// ``ClassificationError`` when no node has the model.
    public func classify(
        _ images: [UInt8], model: CNVModel? = nil, progress: ProgressHandler? = nil
    ) async throws -> [UInt8] {
        try await classifyCounting(images, model: model, progress: progress).classes
    }

    /// Classifies a batch of images (see ``classify(_:model:progress:)-swift.method``);
    /// with labels, the report has the accuracy.
    public func classify(
        _ batch: ImageBatch, model: CNVModel? = nil, progress: ProgressHandler? = nil
    ) async throws -> ClassificationReport {
        let started = ContinuousClock.now
        let (classes, counts) = try await classifyCounting(batch.pixels, model: model, progress: progress)
        let correct = batch.labels.map { labels in zip(labels, classes).count { $0 == $1 } }
        return ClassificationReport(
            classes: classes, correct: correct, batchesPerNode: counts, duration: ContinuousClock.now - started)
    }

    /// The classifier program every classifying node of the cluster has: that of `model`,
    /// or without it the only one the nodes have. Throws ``ClassificationError`` when
    /// there is none, when a node has another model, or (without `model`) when the nodes
    /// disagree.
    public func classifierProgram(for model: CNVModel? = nil) async throws -> String {
        try await classifyingNodes(for: model).program
    }

    private func classifyCounting(
        _ images: [UInt8], model: CNVModel?, progress: ProgressHandler?
    ) async throws -> (classes: [UInt8], counts: [String: Int]) {
        guard images.count % ImageBatch.imageBytes == 0 else { throw ImageFileError.rawLength(images.count) }
        let (program, eligible) = try await classifyingNodes(for: model)
        guard !images.isEmpty else { return ([], [:]) }
        let job = try ClassificationJob(program: program, batchSize: configuration.batchSize)
        let (classes, counts) = try await scatterConcatenating(
            .chunks(of: images, size: job.batchSize * ImageBatch.imageBytes), of: ClassificationJob.kind,
            over: try await lanes(for: job, on: eligible),
            reserving: images.count / ImageBatch.imageBytes, progress: progress
        ) { classes, weight in
            // A node's output is checked before it is trusted (a remote one comes off the wire).
            guard classes.count * ImageBatch.imageBytes == weight,
                classes.allSatisfy({ $0 < ImageBatch.classCount })
            else {
                throw ClassificationError.badClasses(count: classes.count, images: weight / ImageBatch.imageBytes)
            }
        }
        return (classes, counts)
    }

    /// The classifier program to use and the nodes that have it.
    private func classifyingNodes(for model: CNVModel?) async throws -> (program: String, nodes: [any DeviceNode]) {
        var programsByNode: [(node: any DeviceNode, programs: [String])] = []
        for node in nodes {
            let programs = await node.programNames().filter { CNVModel.identity(ofProgram: $0) != nil }
            programsByNode.append((node, programs))
        }
        let program: String
        if let model {
            program = model.programName
            for (node, programs) in programsByNode where !programs.isEmpty && !programs.contains(program) {
                throw ClassificationError.modelMismatch(
                    node: node.name, expected: model.identity,
                    found: programs.compactMap { CNVModel.identity(ofProgram: $0) })
            }
        } else {
            let all = Set(programsByNode.flatMap(\.programs)).sorted()
            guard all.count <= 1 else {
                throw ClassificationError.severalModels(all.compactMap { CNVModel.identity(ofProgram: $0) })
            }
            guard let only = all.first else { throw ClassificationError.noClassifier(model: nil) }
            program = only
        }
        let eligible = programsByNode.filter { $0.programs.contains(program) }.map(\.node)
        guard !eligible.isEmpty else { throw ClassificationError.noClassifier(model: model?.identity) }
        return (program, eligible)
    }
}
