import ArgumentParser
import Dispatch
import FPGAExecution
import FPGAKernels
import SampleSupport

/// `fpga-cnv-bench`: images per second of the CNV-W1A1 software engine on 1, 2, ...
/// dedicated threads, with a random model and random images.
@main
struct CNVBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-cnv-bench",
        abstract: "Measure the CNV-W1A1 engine's images/s on dedicated threads.",
        discussion: """
            Builds a random CNV-W1A1 model (--seed) and --images random NHWC images, warms \
            up, then for each thread count classifies all the images once, split evenly over \
            that many threads, and prints images/s. Use a release build.
            """,
        version: ToolVersion.current)

    @Option(help: ArgumentHelp("Images per measurement.", valueName: "N"))
    var images: Int = 4096

    @Option(help: ArgumentHelp("Thread counts to measure, comma separated.", valueName: "LIST"))
    var threads: String = "1,2"

    @Option(help: ArgumentHelp("Kernel: best, all, or one of portable, popcnt, avx2, avx512.", valueName: "NAME"))
    var kernel: String = "best"

    @Option(help: ArgumentHelp("Model and image seed.", valueName: "N"))
    var seed: UInt64 = 1

    func validate() throws {
        guard images > 0 else { throw ValidationError("--images must be above 0") }
        guard threadCounts != nil else { throw ValidationError("--threads: '\(threads)' is not a list of counts") }
        guard kernels != nil else { throw ValidationError("--kernel: '\(kernel)' is not a kernel this CPU runs") }
    }

    var threadCounts: [Int]? {
        let counts = threads.split(separator: ",").map { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return counts.map { $0! }
    }

    var kernels: [CNVEngine.Kernel]? {
        switch kernel {
        case "best": return [.best]
        case "all": return CNVEngine.Kernel.supported
        default:
            let match = CNVEngine.Kernel.supported.first { $0.description == kernel }
            return match.map { [$0] }
        }
    }

    func run() throws {
        let model = CNVModel.random(seed: seed)
        var generator = SplitMix64(seed: seed &+ 1)
        let pixels = (0..<images * CNVModel.imageBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        writeStandardOutput(
            "CNV-W1A1 engine, random model (seed \(seed)), \(images) random images, "
                + "kernels on this CPU: \(CNVEngine.Kernel.supported.map(\.description).joined(separator: ", "))\n")
        for kernel in kernels! {
            let engine = try CNVEngine(model: model, kernel: kernel)
            _ = try engine.classify(Array(pixels[0..<(min(images, 64) * CNVModel.imageBytes)]))
            var single: Double?
            for count in threadCounts! {
                let seconds = Self.measure(engine: engine, pixels: pixels, threads: count)
                let rate = Double(images) / seconds
                single = single ?? rate / Double(count)
                let line =
                    "kernel \(kernel.description.padding(8)) threads \(count): "
                    + "\(Self.format(rate, 0)) images/s (\(Self.format(rate / Double(count), 0)) per thread, "
                    + "\(Self.format(seconds * 1000, 1)) ms, \(Self.format(rate / single!, 2))x one thread)\n"
                writeStandardOutput(line)
            }
        }
    }

    /// Seconds to classify all `pixels`, split evenly over `threads` dedicated threads.
    static func measure(engine: CNVEngine, pixels: [UInt8], threads: Int) -> Double {
        let count = pixels.count / CNVModel.imageBytes
        let done = DispatchSemaphore(value: 0)
        let clock = ContinuousClock()
        let start = clock.now
        for thread in 0..<threads {
            let range = (count * thread / threads)..<(count * (thread + 1) / threads)
            startDedicatedThread(name: "cnv-bench-\(thread)") {
                var classes = [UInt8](repeating: 0, count: range.count)
                pixels.withUnsafeBytes { all in
                    let slice = UnsafeRawBufferPointer(
                        rebasing: all[
                            (range.lowerBound * CNVModel.imageBytes)..<(range.upperBound * CNVModel.imageBytes)])
                    classes.withUnsafeMutableBytes { output in
                        // The sizes match: the slice holds range.count images.
                        try! engine.classify(images: slice, count: range.count, into: output)
                    }
                }
                done.signal()
            }
        }
        for _ in 0..<threads { done.wait() }
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    static func format(_ value: Double, _ decimals: Int) -> String {
        var scaled = value
        for _ in 0..<decimals { scaled *= 10 }
        let rounded = Int(scaled.rounded())
        guard decimals > 0 else { return String(rounded) }
        var text = String(rounded)
        while text.count <= decimals { text = "0" + text }
        text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals))
        return text
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
