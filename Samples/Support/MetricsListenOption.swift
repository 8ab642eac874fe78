import ArgumentParser

/// `--metrics-listen HOST:PORT` for a client tool (fpga-compress, fpga-classify): where it
/// serves its job's dashboard and metrics (``listening``).
public struct MetricsListenOption: ParsableArguments {
    @Option(
        name: .customLong("metrics-listen"),
        help: ArgumentHelp(
            "While the job runs, serve its dashboard (GET /), /status.json, /metrics and /health over HTTP on this address (port 0 picks a free port).",
            valueName: "HOST:PORT"))
    public var address: String?

    public init() {}

    /// Where the option says to serve, as a plain value.
    public var listening: MetricsListening { MetricsListening(address: address) }

    public func validate() throws { try listening.validate() }
}
