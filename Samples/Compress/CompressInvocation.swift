import ArgumentParser
import FPGACluster
import FPGAExecution
import SampleSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run of `fpga-compress`: what its command line asked for, as plain values, and the
/// work. ``FPGACompress`` reads it with swift-argument-parser;
/// ``init(plainArguments:)`` reads the plain gzip forms without it.
struct CompressInvocation: Sendable, Hashable {
    /// `-d`: decompress.
    var decompress = false
    /// `-c`: write to standard output.
    var toStandardOutput = false
    /// `-o`: the output file.
    var output: String?
    /// `-f`: overwrite an existing output; write compressed data to a terminal.
    var force = false
    /// `-q`: no progress bar and no summary.
    var quiet = false
    /// `--chunk-size`, as given (``validate()`` checks that it is a size).
    var chunkSize: String?
    /// The file to read, or `-` for standard input.
    var input: String
    /// The cluster's devices: `--local`, `--workers` and the options that go with it.
    var devices = ClusterSelection()
    /// `--metrics-listen`.
    var metricsListen = MetricsListening()

    /// Throws a `ValidationError` for options that do not go together or a value out of
    /// range.
    func validate() throws {
        try devices.validate()
        try metricsListen.validate()
        if devices.workers != nil && decompress {
            throw ValidationError("--workers applies to compression; decompression runs on this host's cores")
        }
        if let chunkSize, ByteCount.parse(chunkSize) == nil {
            throw ValidationError("--chunk-size: '\(chunkSize)' is not a size (try 1M, 512K or 65536)")
        }
        if toStandardOutput && output != nil { throw ValidationError("-c and -o cannot be used together") }
    }

    /// Compresses or decompresses, with any failure turned into one line on standard error
    /// and an `ExitCode`.
    func run() async throws {
        tuneAllocator()
        try await messages.run { try await perform() }
    }

    private func perform() async throws {
        let destination = try outputPath()
        if destination == "-" && !decompress && !force && isatty(STDOUT_FILENO) != 0 {
            throw CLIError("compressed data not written to a terminal (use -f to force)")
        }
        var settings = Cluster.Configuration()
        if let chunkSize { settings.chunkSize = ByteCount.parse(chunkSize)! }
        // Before the cluster: its nodes count through the factory bootstrapped when they are made.
        let registry = metricsListen.bootstrap()
        let cluster: Cluster
        if let addresses = try await devices.workerAddresses() {
            let token = try devices.token()
            cluster = try await Cluster(
                workers: addresses, token: token, devices: .simulated(count: devices.localDevices ?? 0),
                programs: .cpuFallback, configuration: settings)
            for (worker, reason) in cluster.unreachableWorkers.sorted(by: { $0.key < $1.key }) where !quiet {
                printError("warning: worker \(worker) unreachable: \(ClusterOptions.reason(reason))")
            }
        } else if decompress {
            // Decompression runs on this host's cores, never on devices.
            cluster = try Cluster.hostOnly(configuration: settings)
        } else {
            let count = devices.localDevices ?? ProcessorInfo.activeCores
            cluster = try Cluster(devices: .simulated(count: count), programs: .cpuFallback, configuration: settings)
        }

        let bar =
            (quiet || isatty(STDERR_FILENO) == 0)
            ? nil : ProgressBar(label: decompress ? "decompressing" : "compressing")
        var progress: ProgressHandler?
        if let bar { progress = { bar.update($0) } }
        let (input, decompress, force) = (self.input, self.decompress, self.force)
        let progressHandler = progress
        let title = "fpga-compress \(input == "-" ? "stdin" : input)"
        let status: @Sendable () async -> [DeviceStatus] = { await cluster.status() }
        let report = try await metricsListen.serving(
            tool: "fpga-compress", title: title, nodes: cluster.nodes, status: status, registry: registry
        ) {
            try await runCancellingOnInterrupt { () async throws -> JobReport in
                if decompress {
                    return try await cluster.decompressFile(
                        at: input, to: destination, overwrite: force, progress: progressHandler)
                }
                return try await cluster.compressFile(
                    at: input, to: destination, overwrite: force, progress: progressHandler)
            }
        }
        bar?.finish()
        if !quiet {
            printError(Summary(report: report, input: input, output: destination, decompress: decompress).line)
        }
    }

    private func outputPath() throws -> String {
        if toStandardOutput || (input == "-" && output == nil) { return "-" }
        if let output { return output }
        if !decompress {
            if input.hasSuffix(".gz") && !force { throw CLIError("\(input) already has .gz suffix -- unchanged") }
            return input + ".gz"
        }
        for (suffix, replacement) in [(".gz", ""), (".tgz", ".tar"), ("-gz", ""), (".z", "")]
        where input.hasSuffix(suffix) {
            let stem = String(input.dropLast(suffix.count))
            if !stem.isEmpty && !stem.hasSuffix("/") { return stem + replacement }
        }
        throw CLIError("\(input): unknown suffix -- use -o OUTPUT or -c")
    }
}
