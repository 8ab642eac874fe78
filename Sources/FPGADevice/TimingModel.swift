/// How long a simulated compute unit takes for a run, so that a simulated card can
/// behave like a real one for scale and load-balancing tests.
///
/// A run takes at least `latency + workUnits / unitsPerSecond`; the software kernel
/// computes the real result, then the compute unit stays busy until that time.
public struct TimingModel: Sendable, Hashable {
    /// Fixed cost of one run.
    public var latency: Duration
    /// Rate of one compute unit, in the kernel's work units (bytes for gzip).
    public var unitsPerSecond: Double

    public init(latency: Duration, unitsPerSecond: Double) {
        precondition(unitsPerSecond > 0, "a rate must be positive")
        self.latency = latency
        self.unitsPerSecond = unitsPerSecond
    }

    /// The time a run of `units` work units takes.
    public func duration(forUnits units: Int) -> Duration {
        latency + .nanoseconds(Int64((Double(units) / unitsPerSecond * 1e9).rounded()))
    }

    /// One compute unit of an Alveo U50 running the Vitis gzip kernel: the demo measured
    /// 348 MB/s for a card with three compute units.
    public static let alveoU50Gzip = TimingModel(latency: .microseconds(50), unitsPerSecond: 348e6 / 3)
}
