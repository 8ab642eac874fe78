import FPGACluster
import SampleSupport

/// A one-line progress bar of bytes on standard error.
final class ProgressBar: Sendable {
    private let label: String
    private let line = ProgressLine()

    init(label: String) { self.label = label }

    func update(_ progress: JobProgress) {
        line.draw { seconds in
            let rate = seconds > 0 ? Double(progress.bytesDone) / seconds / 1e6 : 0
            var text = "\(label) "
            if let fraction = progress.fraction {
                text += ProgressLine.bar(fraction) + ByteCount.fixed(fraction * 100, digits: 1) + "% "
            }
            return text + ByteCount.format(progress.bytesDone) + "  " + ByteCount.fixed(rate, digits: 1) + " MB/s"
        }
    }

    /// Clears the bar's line.
    func finish() { line.finish() }
}

/// The line printed after a job.
struct Summary {
    let report: JobReport
    let input: String
    let output: String
    let decompress: Bool

    var line: String {
        let compressed = decompress ? report.bytesIn : report.bytesOut
        let plain = decompress ? report.bytesOut : report.bytesIn
        let ratio = plain == 0 ? 0 : Double(compressed) / Double(plain) * 100
        let seconds =
            Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) * 1e-18
        let rate = seconds > 0 ? Double(plain) / seconds / 1e6 : 0
        var text = "\(input == "-" ? "stdin" : input) -> \(output == "-" ? "stdout" : output): "
        text += "\(ByteCount.format(report.bytesIn)) in, \(ByteCount.format(report.bytesOut)) out "
        text += "(\(ByteCount.fixed(ratio, digits: 1))%), \(ByteCount.fixed(rate, digits: 1)) MB/s, "
        text += "\(ByteCount.fixed(seconds, digits: 2)) s"
        if !report.chunksPerNode.isEmpty {
            let perNode = report.chunksPerNode.sorted { ($0.key.count, $0.key) < ($1.key.count, $1.key) }
            text += "; chunks " + perNode.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        } else {
            text += "; \(report.chunks) members"
        }
        return text
    }
}
