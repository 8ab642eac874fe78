@preconcurrency import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs an action on SIGINT or SIGTERM instead of letting them end the process, so a
/// tool can cancel its job (and remove partial output) or shut down cleanly.
public final class InterruptSignals {
    private let sources: [any DispatchSourceSignal]

    public init(_ action: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            return source
        }
    }

    /// Stops handling the signals.
    public func stop() {
        for source in sources { source.cancel() }
    }
}
