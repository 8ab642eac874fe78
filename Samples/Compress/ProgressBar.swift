import FPGACluster
import SampleSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-line progress bar on standard error, redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let label: String
    private let started = ContinuousClock.now
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    init(label: String) { self.label = label }

    func update(_ progress: JobProgress) {
        let now = ContinuousClock.now
        let due = lastDraw.withLock { last in
            if let previous = last, now - previous < .milliseconds(100) { return false }
            last = now
            return true
        }
        guard due else { return }
        let elapsed =
            Double((now - started).components.attoseconds) * 1e-18 + Double((now - started).components.seconds)
        let rate = elapsed > 0 ? Double(progress.bytesDone) / elapsed / 1e6 : 0
        var line = "\r\(label) "
        if let fraction = progress.fraction {
            let width = 30
            let filled = min(width, Int(fraction * Double(width)))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            line += ByteCount.fixed(fraction * 100, digits: 1) + "% "
        }
        line += ByteCount.format(progress.bytesDone) + "  " + ByteCount.fixed(rate, digits: 1) + " MB/s\u{1B}[K"
        writeStandardError(line)
    }

    /// Clears the bar's line.
    func finish() {
        writeStandardError("\r\u{1B}[K")
    }
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
