import FPGACluster
import SampleSupport

/// A one-line progress bar of images classified on standard error.
final class ImageProgressBar: Sendable {
    private let total: Int
    private let line = ProgressLine()

    init(total: Int) { self.total = total }

    /// Draws the bar for `progress`, whose bytes are image bytes.
    func update(_ progress: JobProgress) {
        let images = progress.bytesDone / ImageBatch.imageBytes
        let fraction = total == 0 ? 1 : Double(images) / Double(total)
        line.draw { seconds in
            let rate = seconds > 0 ? Double(images) / seconds : 0
            return "classifying " + ProgressLine.bar(fraction) + "\(images)/\(total) images  "
                + ByteCount.fixed(rate, digits: 0) + " images/s"
        }
    }

    /// Clears the bar's line.
    func finish() { line.finish() }
}
