import ArgumentParser
import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATransport
import Foundation
import VectorAdd

/// `fpga-vadd`: adds two seeded random vectors on a cluster, chunk by chunk, and checks
/// every sum against the CPU's.
@main
struct VectorAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-vadd",
        abstract: "Add two random vectors on simulated FPGAs or on fpga-vadd-worker processes, and check the sums.",
        discussion: """
            Draws two vectors of --count random 32-bit elements from --seed, cuts them into \
            chunks of --chunk elements, streams the chunks through krnl_vadd on the cluster's \
            nodes, and checks every element of every sum against the CPU's (wrapping on \
            overflow). Prints one summary line, with how many chunks each node ran; on any \
            mismatch or error, prints one line on standard error and exits 1. With --workers, \
            the token comes from --token-file or the FPGACLUSTER_TOKEN environment variable.
            """)

    @Option(help: ArgumentHelp("Elements in each vector.", valueName: "N"))
    var count = 1_000_000

    @Option(help: ArgumentHelp("Elements in each chunk, the unit a node adds at once.", valueName: "N"))
    var chunk = 65_536

    @Option(help: ArgumentHelp("Simulated devices in this process (default: 2 without --workers).", valueName: "N"))
    var local: Int?

    @Option(help: ArgumentHelp("fpga-vadd-worker processes to use, comma-separated.", valueName: "HOST:PORT,..."))
    var workers: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the workers' token.", valueName: "FILE"))
    var tokenFile: String?

    @Option(
        name: .customLong("compute-units"),
        help: ArgumentHelp("Compute units of krnl_vadd on each local device (1 to 4).", valueName: "N"))
    var computeUnits = 2

    @Option(help: ArgumentHelp("Seed of the random vectors.", valueName: "N"))
    var seed: UInt64 = 1

    /// Parses the arguments and runs, turning every error into one line on standard error
    /// and a nonzero exit (ArgumentParser's own messages included; `--help` prints help).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = message(for: error)
            let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("fpga-vadd: \(line)\n".utf8))
            Foundation.exit(code == .validationFailure ? code.rawValue : 1)
        }
    }

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        let chunks = VectorAddJob.maxElementsRange
        guard chunks.contains(chunk) else {
            throw ValidationError("--chunk must be \(chunks.lowerBound) to \(chunks.upperBound)")
        }
        guard Xclbin.vectorAddComputeUnits.contains(computeUnits) else {
            throw ValidationError("--compute-units must be 1 to \(Xclbin.vectorAddComputeUnits.upperBound)")
        }
        if let local, !(0...64).contains(local) { throw ValidationError("--local must be 0 to 64") }
        if workers == nil, local == 0 { throw ValidationError("--local 0 needs --workers") }
        if let workers, workerList(workers).isEmpty { throw ValidationError("--workers needs HOST:PORT,...") }
    }

    func run() async throws {
        let cluster = try await makeCluster()
        let job = VectorAddJob(maxElements: chunk)
        let chunks = VectorChunks(count: count, chunk: chunk, seed: seed)
        // Streams: the chunks are drawn as the nodes take them, and each sum checked and
        // dropped as it comes back, in chunk order.
        var index = 0
        for try await sum in cluster.run(job, inputs: chunks) {
            try check(sum, against: chunks.pair(index), chunk: index)
            index += 1
        }
        guard index == chunks.chunkCount else {
            throw VectorAddFailure("\(index) sums for \(chunks.chunkCount) chunks")
        }
        var perNode: [String] = []
        for node in cluster.nodes { perNode.append("\(node.name): \(await node.completed[job.program] ?? 0)") }
        let nodes = cluster.nodes.count == 1 ? "1 node" : "\(cluster.nodes.count) nodes"
        print(
            "vadd: \(count) elements in \(chunks.chunkCount) chunks on \(nodes): ok (\(perNode.joined(separator: ", ")))"
        )
    }

    /// Local simulated devices, the workers' devices, or both.
    private func makeCluster() async throws -> Cluster {
        guard let workers else {
            return try Cluster(
                devices: .simulatedVectorAdd(count: local ?? 2), programs: .vectorAdd(computeUnits: computeUnits))
        }
        let token =
            try tokenFile.map { path throws(AuthTokenError) in try AuthToken.load(file: path) }
            ?? AuthToken.fromEnvironment()
        let cluster = try await Cluster(
            workers: workerList(workers), token: token, devices: .simulatedVectorAdd(count: local ?? 0),
            programs: .vectorAdd(computeUnits: computeUnits))
        if let (worker, reason) = cluster.unreachableWorkers.sorted(by: { $0.key < $1.key }).first {
            throw VectorAddFailure("cannot use worker \(worker): \(reason)")
        }
        return cluster
    }

    private func workerList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Checks that `sum` is the CPU's sum of `pair`, element by element.
    private func check(_ sum: [UInt32], against pair: VectorPair, chunk: Int) throws {
        guard sum.count == pair.lhs.count else {
            throw VectorAddFailure("chunk \(chunk): \(sum.count) sums for \(pair.lhs.count) elements")
        }
        for offset in sum.indices where sum[offset] != pair.lhs[offset] &+ pair.rhs[offset] {
            throw VectorAddFailure(
                "mismatch at element \(chunk * self.chunk + offset): \(sum[offset]), expected "
                    + "\(pair.lhs[offset] &+ pair.rhs[offset])")
        }
    }
}

/// A failure of the run itself, such as a wrong sum: printed as it is.
struct VectorAddFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The chunks of two random vectors of `count` elements, made one at a time as the
/// cluster asks for them: chunk *k* is drawn from its own generator, seeded from `seed`
/// and *k*, so it can be made again to check its sum without keeping it.
struct VectorChunks: AsyncSequence, Sendable {
    let count: Int
    let chunk: Int
    let seed: UInt64

    var chunkCount: Int { (count + chunk - 1) / chunk }

    /// Chunk `index`'s two addends.
    func pair(_ index: Int) -> VectorPair {
        let length = Swift.min(chunk, count - index * chunk)
        var generator = SplitMix64(seed: seed ^ (UInt64(index) &* 0xd1b5_4a32_d192_ed03))
        let lhs = (0..<length).map { _ in UInt32(truncatingIfNeeded: generator.next()) }
        let rhs = (0..<length).map { _ in UInt32(truncatingIfNeeded: generator.next()) }
        return VectorPair(lhs: lhs, rhs: rhs)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: VectorChunks
        var next = 0

        mutating func next() async -> VectorPair? {
            guard next < chunks.chunkCount else { return nil }
            defer { next += 1 }
            return chunks.pair(next)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}
