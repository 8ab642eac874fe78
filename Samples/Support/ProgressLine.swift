import Synchronization

/// A one-line progress display on standard error, redrawn at most ten times a second,
/// for the sample tools' progress bars.
public final class ProgressLine: Sendable {
    private let started = ContinuousClock.now
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// Redraws the line with `text`, given the seconds since the line was made, unless it
    /// was drawn less than 100 ms ago.
    public func draw(_ text: (_ elapsedSeconds: Double) -> String) {
        let now = ContinuousClock.now
        let due = lastDraw.withLock { last in
            if let previous = last, now - previous < .milliseconds(100) { return false }
            last = now
            return true
        }
        guard due else { return }
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        writeStandardError("\r" + text(seconds) + "\u{1B}[K")
    }

    /// Clears the line.
    public func finish() {
        writeStandardError("\r\u{1B}[K")
    }

    /// `[###.......] ` filled to `fraction` (0...1) over `width` characters.
    public static func bar(_ fraction: Double, width: Int = 30) -> String {
        let filled = max(0, min(width, Int(fraction * Double(width))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
    }
}
