import FPGACluster
import SampleSupport
import Synchronization

/// A one-line progress bar of images classified on standard error, redrawn at most ten
/// times a second.
final class ImageProgressBar: Sendable {
    private let total: Int
    private let started = ContinuousClock.now
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    init(total: Int) { self.total = total }

    /// Draws the bar for `progress`, whose bytes are image bytes.
    func update(_ progress: JobProgress) {
        let now = ContinuousClock.now
        let due = lastDraw.withLock { last in
            if let previous = last, now - previous < .milliseconds(100) { return false }
            last = now
            return true
        }
        guard due else { return }
        let images = progress.bytesDone / ImageBatch.imageBytes
        let elapsed =
            Double((now - started).components.attoseconds) * 1e-18 + Double((now - started).components.seconds)
        let rate = elapsed > 0 ? Double(images) / elapsed : 0
        let fraction = total == 0 ? 1 : Double(images) / Double(total)
        let width = 30
        let filled = min(width, Int(fraction * Double(width)))
        var line = "\rclassifying [" + String(repeating: "#", count: filled)
        line += String(repeating: ".", count: width - filled) + "] "
        line += "\(images)/\(total) images  " + ByteCount.fixed(rate, digits: 0) + " images/s\u{1B}[K"
        writeStandardError(line)
    }

    /// Clears the bar's line.
    func finish() {
        writeStandardError("\r\u{1B}[K")
    }
}
