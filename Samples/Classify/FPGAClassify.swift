import ArgumentParser
import FPGACluster
import FPGAExecution
import FPGAKernels
import FPGATransport
import SampleSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fpga-classify`: CIFAR-10 classification with CNV-W1A1 on a cluster of FPGAs.
@main
struct FPGAClassify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-classify",
        abstract: "Classify CIFAR-10 images with a CNV-W1A1 model on a cluster of FPGAs.",
        discussion: """
            INPUT is a CIFAR-10 binary file (records of a label byte and 3072 channel-planar \
            bytes, such as test_batch.bin) or raw NHWC uint8 images (3072 bytes each); the format \
            is guessed from the name and length unless --format says. Without --workers the \
            images are classified on simulated FPGAs, one per core, with the model's weights. \
            Workers must have been started with the same model (fpga-worker --model FILE). \
            With labels in the input, the summary gives the accuracy. --metrics-listen HOST:PORT \
            serves the cluster's dashboard (GET /), /status.json, /metrics and /health while the \
            images are classified; the address is written to standard error.
            """,
        version: ToolVersion.current)

    @Option(help: ArgumentHelp("The CNV-W1A1 model file (see brevitas_export.py).", valueName: "FILE"))
    var model: String

    @OptionGroup var devices: ClusterOptions

    @OptionGroup var metricsListen: MetricsListenOption

    @Option(name: .short, help: ArgumentHelp("Write one class index per line, in input order.", valueName: "LABELS"))
    var output: String?

    @Option(help: ArgumentHelp("The input's format: cifar10 or raw (default: guessed).", valueName: "FORMAT"))
    var format: String?

    @Option(
        help: ArgumentHelp(
            "Also write 10 float32 little-endian logits per image (computed on this host).", valueName: "FILE"))
    var logits: String?

    @Option(
        name: .customLong("batch-size"),
        help: ArgumentHelp(
            "Images per batch sent to a device (default: \(Cluster.Configuration.defaultBatchSize)).", valueName: "N"))
    var batchSize: Int?

    @Flag(name: [.short, .long], help: "Overwrite existing output files.")
    var force = false

    @Flag(name: [.short, .long], help: "Print no progress bar and no summary.")
    var quiet = false

    @Argument(help: ArgumentHelp("The image file to read, or - for standard input.", valueName: "INPUT"))
    var input: String

    func validate() throws {
        if let format, Self.formats[format] == nil {
            throw ValidationError("--format must be cifar10 or raw, not '\(format)'")
        }
        if let batchSize, !Cluster.Configuration.batchSizeRange.contains(batchSize) {
            let range = Cluster.Configuration.batchSizeRange
            throw ValidationError("--batch-size must be between \(range.lowerBound) and \(range.upperBound)")
        }
        if let output, output == logits { throw ValidationError("-o and --logits name the same file") }
    }

    static let formats: [String: ImageFileFormat] = ["cifar10": .cifar10, "raw": .rawNHWC]

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        try await messages.run { try await perform() }
    }

    private func perform() async throws {
        // Refused before any work; checked again when the outputs are renamed into place.
        for path in [output, logits].compactMap({ $0 }) where path != "-" && !force && access(path, F_OK) == 0 {
            throw FileJobError.outputExists(path)
        }
        let model = try await CNVModel.read(path: self.model)
        let images = try await ImageBatch.read(path: input, format: format.flatMap { Self.formats[$0] })
        var settings = Cluster.Configuration()
        if let batchSize { settings.batchSize = batchSize }
        // Before the cluster: its nodes count through the factory bootstrapped when they are made.
        let registry = metricsListen.listening.bootstrap()
        let cluster: Cluster
        if let addresses = try await devices.selection.workerAddresses() {
            let token = try devices.selection.token()
            cluster = try await Cluster(
                workers: addresses, token: token, devices: .simulated(count: devices.localDevices ?? 0, model: model),
                programs: .builtIn(classifying: model), configuration: settings)
            for (worker, reason) in cluster.unreachableWorkers.sorted(by: { $0.key < $1.key }) where !quiet {
                printError("warning: worker \(worker) unreachable: \(ClusterOptions.reason(reason))")
            }
        } else {
            cluster = try Cluster(
                simulated: devices.localDevices ?? ProcessorInfo.activeCores, model: model, configuration: settings)
        }

        let bar = (quiet || isatty(STDERR_FILENO) == 0) ? nil : ImageProgressBar(total: images.count)
        var progress: ProgressHandler?
        if let bar { progress = { bar.update($0) } }
        let handler = progress
        let title = "fpga-classify \(input == "-" ? "stdin" : input)"
        let status: @Sendable () async -> [DeviceStatus] = { await cluster.status() }
        let report = try await metricsListen.listening.serving(
            tool: "fpga-classify", title: title, nodes: cluster.nodes, status: status, registry: registry
        ) {
            try await runCancellingOnInterrupt {
                try await cluster.classify(images, model: model, progress: handler)
            }
        }
        bar?.finish()

        var files: [(path: String, bytes: [UInt8])] = []
        if let output { files.append((output, Array(report.classes.map { "\($0)\n" }.joined().utf8))) }
        if let logits {
            let pixels = images.pixels
            let values = try await BlockingThreadPool.shared.run { try CNVEngine(model: model).logits(pixels) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * 4)
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
            files.append((logits, bytes))
        }
        try await OutputFiles.write(files, overwrite: force)
        if !quiet { printError(summary(report)) }
    }

    private func summary(_ report: ClassificationReport) -> String {
        let seconds =
            Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) * 1e-18
        var text = "\(input == "-" ? "stdin" : input): \(report.images) images, "
        text +=
            "\(ByteCount.fixed(report.imagesPerSecond, digits: 1)) images/s, \(ByteCount.fixed(seconds, digits: 3)) s"
        if let accuracy = report.accuracy, let correct = report.correct {
            text += "; accuracy \(ByteCount.fixed(accuracy * 100, digits: 2))% (\(correct)/\(report.images))"
        }
        if !report.batchesPerNode.isEmpty {
            let perNode = report.batchesPerNode.sorted { ($0.key.count, $0.key) < ($1.key.count, $1.key) }
            text += "; batches " + perNode.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        return text
    }
}

/// The tool's one-line messages on standard error.
let messages = ToolMessages(tool: "fpga-classify") { error in
    switch error {
    case FileJobError.outputExists: "use --force to overwrite"
    case ClassificationError.noClassifier(let model):
        "start workers with --model FILE, or make simulated devices with \(model == nil ? "a" : "the") model"
    default: ClusterOptions.hint(for: error)
    }
}

/// Prints `fpga-classify: message` on standard error.
func printError(_ message: String) { messages.print(message) }
