/// Whether a node's device is usable, as its last run left it.
public enum DeviceHealth: Sendable, Hashable, CustomStringConvertible {
    /// No run has failed on the device since its last successful one.
    case healthy
    /// The device's last run failed on the device: `reason` is one line, such as
    /// `sim0: run failed: kernel xilGzipCompBlock failed: ...`.
    case unhealthy(reason: String)

    /// Whether the device is usable.
    public var isHealthy: Bool { self == .healthy }

    /// Why the device is not usable; `nil` when it is.
    public var reason: String? {
        switch self {
        case .healthy: nil
        case .unhealthy(let reason): reason
        }
    }

    public var description: String { reason ?? "healthy" }
}
