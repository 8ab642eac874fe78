import ArgumentParser
import SampleSupport

/// `fpga-worker`: serves this host's FPGAs to remote clusters (`serve`, the default), or
/// shows what the devices of running workers are doing (`status`).
@main
struct FPGAWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-worker",
        abstract: "Serve this host's FPGAs to FPGACluster clients, or show what running workers' devices are doing.",
        discussion: """
            Without a subcommand, fpga-worker serves (fpga-worker serve --help lists its options): \
            fpga-worker --listen HOST:PORT is fpga-worker serve --listen HOST:PORT. \
            fpga-worker status --workers HOST:PORT,... prints a table of the workers' devices.
            """,
        version: ToolVersion.current,
        subcommands: [Serve.self, Status.self],
        defaultSubcommand: Serve.self)
}
