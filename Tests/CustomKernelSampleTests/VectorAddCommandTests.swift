import FPGATestSupport
import Foundation
import Testing

/// `fpga-vadd` and `fpga-vadd-worker` as a user runs them: real processes, checked by their
/// exit status and what they print.
@Suite("fpga-vadd and fpga-vadd-worker", .serialized)
struct VectorAddCommandTests {
    static let client = WorkerProcess.executable("fpga-vadd")
    static let worker = WorkerProcess.executable("fpga-vadd-worker")

    /// Runs `executable` with `arguments` to its end (bounded by ChildProcess's watchdog).
    func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String, error: String)
    {
        let child = try await ChildProcess.start(
            executable, arguments: arguments, environment: ["FPGACLUSTER_TOKEN": nil])
        let status = try await child.exit()
        return (status.code, String(decoding: child.output, as: UTF8.self), child.errorText)
    }

    /// The chunks each node ran, from the summary line's `(name: count, ...)`.
    func chunksPerNode(_ summary: String) throws -> [String: Int] {
        let open = try #require(summary.firstIndex(of: "("))
        let close = try #require(summary.lastIndex(of: ")"))
        var counts: [String: Int] = [:]
        for entry in summary[summary.index(after: open)..<close].split(separator: ", ") {
            let separator = try #require(entry.range(of: ": ", options: .backwards))
            counts[String(entry[..<separator.lowerBound])] = Int(entry[separator.upperBound...])
        }
        return counts
    }

    @Test func addsOnLocalSimulatedDevices() async throws {
        let result = try await run(Self.client, ["--local", "2", "--count", "100000", "--chunk", "8192"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.isEmpty)
        let lines = result.output.split(separator: "\n")
        try #require(lines.count == 1, "\(result.output)")
        #expect(lines[0].hasPrefix("vadd: 100000 elements in 13 chunks on 2 nodes: ok (sim0: "))
        let counts = try chunksPerNode(String(lines[0]))
        #expect(counts.keys.sorted() == ["sim0", "sim1"])
        #expect(counts.values.reduce(0, +) == 13)
    }

    @Test func addsThroughTwoWorkers() async throws {
        let one = try await WorkerProcess.start(executable: Self.worker, arguments: ["--devices", "2"])
        defer { one.stop() }
        let two = try await WorkerProcess.start(executable: Self.worker, arguments: ["--devices", "2"])
        defer { two.stop() }
        let result = try await run(
            Self.client, ["--workers", "\(one.address),\(two.address)", "--count", "300000", "--chunk", "4096"])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n")
        try #require(lines.count == 1, "\(result.output)")
        #expect(lines[0].hasPrefix("vadd: 300000 elements in 74 chunks on 4 nodes: ok ("))
        let counts = try chunksPerNode(String(lines[0]))
        #expect(
            counts.keys.sorted()
                == ["\(one.address)/sim0", "\(one.address)/sim1", "\(two.address)/sim0", "\(two.address)/sim1"]
                .sorted())
        // Every chunk ran once (nothing was lost on loopback), and on both workers: each of
        // the cluster's lanes takes a chunk as it starts, and there are more chunks than lanes.
        #expect(counts.values.reduce(0, +) == 74)
        for worker in [one, two] {
            let ran = counts.filter { $0.key.hasPrefix("\(worker.address)/") }.values.reduce(0, +)
            #expect(ran > 0, "\(worker.address) ran no chunk: \(lines[0])")
        }
        // Closing their standard input shuts the workers down gracefully.
        for worker in [one, two] {
            worker.closeStandardInput()
            #expect(try await worker.exit().code == 0, "\(worker.errorOutput)")
        }
    }

    @Test func badInputIsOneLineAndNoOutput() async throws {
        let cases: [(arguments: [String], message: String)] = [
            (["--chunk", "0"], "fpga-vadd: --chunk must be 1 to 8388608\n"),
            (["--count", "lots"], "fpga-vadd: "),
            (["--local", "0"], "fpga-vadd: --local 0 needs --workers\n"),
            (["--compute-units", "5"], "fpga-vadd: --compute-units must be 1 to 4\n"),
            (["--workers", "nowhere"], "fpga-vadd: "),
            (["--frobnicate"], "fpga-vadd: "),
        ]
        for (arguments, message) in cases {
            let result = try await run(Self.client, arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.output.isEmpty, "\(arguments): \(result.output)")
            #expect(result.error.hasPrefix(message), "\(arguments): \(result.error)")
            #expect(result.error.split(separator: "\n").count == 1, "\(arguments): \(result.error)")
        }
        let worker = try await run(Self.worker, ["--listen", "127.0.0.1:0", "--devices", "0"])
        #expect(worker.status != 0)
        #expect(worker.output.isEmpty)
        #expect(worker.error == "fpga-vadd-worker: --devices must be 1 to 64\n")
        let noToken = try await run(Self.worker, ["--listen", "0.0.0.0:0"])
        #expect(noToken.status != 0)
        #expect(noToken.output.isEmpty)
        #expect(noToken.error.hasPrefix("fpga-vadd-worker: listening on 0.0.0.0:0 needs a token"), "\(noToken.error)")
    }
}
