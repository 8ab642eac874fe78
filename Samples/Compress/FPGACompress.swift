import ArgumentParser
import CPlatform
import FPGACluster
import SampleSupport

/// `fpga-compress`: gzip-compatible compression on a cluster of FPGAs.
@main
struct FPGACompress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-compress",
        abstract: "Compress or decompress files in gzip format on a cluster of FPGAs.",
        discussion: """
            Without cluster options the work runs on an embedded cluster of simulated FPGAs, \
            one per core. Output is a multi-member gzip file that every gzip reader accepts; \
            this tool decompresses its own files, and other tools' multi-member files, in \
            parallel. The input file is kept. \
            --metrics-listen HOST:PORT serves the cluster's dashboard (GET /, every device's \
            utilisation and throughput), /status.json, /metrics and /health while the job runs; \
            the address is written to standard error.
            """,
        version: ToolVersion.current)

    @Flag(name: [.short, .long], help: "Decompress.")
    var decompress = false

    @Flag(name: [.customShort("c"), .customLong("stdout")], help: "Write to standard output.")
    var toStandardOutput = false

    @Option(
        name: .short,
        help: ArgumentHelp("Write to OUTPUT instead of INPUT.gz (or INPUT without .gz).", valueName: "OUTPUT"))
    var output: String?

    @OptionGroup var devices: ClusterOptions

    @OptionGroup var metricsListen: MetricsListenOption

    @Option(
        name: .customLong("chunk-size"),
        help: ArgumentHelp("Chunk size, e.g. 2M, 512K or 65536 (default: 2M).", valueName: "SIZE"))
    var chunkSize: String?

    @Flag(name: [.short, .long], help: "Overwrite an existing output; write compressed data to a terminal.")
    var force = false

    @Flag(name: [.short, .long], help: "Keep the input (always done; accepted for gzip compatibility).")
    var keep = false

    @Flag(name: [.short, .long], help: "Print no progress bar and no summary.")
    var quiet = false

    @Argument(help: ArgumentHelp("The file to read, or - for standard input.", valueName: "INPUT"))
    var input: String

    /// What the command line asked for.
    var invocation: CompressInvocation {
        CompressInvocation(
            decompress: decompress, toStandardOutput: toStandardOutput, output: output, force: force, quiet: quiet,
            chunkSize: chunkSize, input: input, devices: devices.selection, metricsListen: metricsListen.listening)
    }

    func validate() throws { try invocation.validate() }

    func run() async throws { try await invocation.run() }

    /// Runs the plain gzip forms of the command line (`-d`, `-c`, `-f`, `-k`, `-q`, `-o`,
    /// `--local`, `--chunk-size` and one input; see
    /// ``CompressInvocation/init(plainArguments:)``) without swift-argument-parser, and
    /// every other through it, as `@main` would. Its parse was a third of every small run
    /// (the runtime's first conformance lookups for its reflection, and three passes over
    /// the arguments): decompressing a one-line file took 14.2 ms with it, 9.3 ms without.
    static func main() async {
        guard let invocation = CompressInvocation(plainArguments: Array(CommandLine.arguments.dropFirst())) else {
            return await main(nil)
        }
        do {
            try await invocation.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// Keeps freed chunk-sized blocks in the heap for reuse instead of returning them to the
/// kernel: every chunk and member is a fresh array, and glibc's default (mmap each block
/// over 128 KiB-32 MiB and unmap it on free) makes each one page-fault anew. Measured on
/// a 1 GiB input (perf stat, three runs each): 2.8x fewer page faults, 2-4% less time.
func tuneAllocator() {
    _ = cplatform_tune_allocator(64 << 20, 256 << 20)
}

/// An error whose description is the whole message.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The tool's one-line messages on standard error.
let messages = ToolMessages(tool: "fpga-compress") { error in
    switch error {
    case FileJobError.outputExists: "use --force to overwrite"
    default: ClusterOptions.hint(for: error)
    }
}

/// Prints `fpga-compress: message` on standard error.
func printError(_ message: String) { messages.print(message) }
