import ArgumentParser
import FPGACluster
import FPGATransport
import SampleSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fpga-transport-bench`: how fast bytes go to `fpga-worker` processes and back, and
/// what one small chunk's round trip costs.
@main
struct TransportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpga-transport-bench",
        abstract: "Measure the transport to fpga-worker processes: echo throughput and 4 KiB round trips.",
        discussion: """
            throughput: runs EchoJob (the worker sends each input straight back, touching no \
            device) over --bytes of data through every worker with Cluster.map, in batches of \
            --batch, checks every output against its input, and prints MB/s per direction; \
            both directions carry all the bytes at the same time. With --local N instead of \
            --workers, the same job runs through an embedded cluster of N simulated devices: \
            the ceiling of what this host's scheduler and lanes can feed to cards. Either way \
            it prints memcpy's bandwidth on this host next to it. \
            latency: sends one 4 KiB chunk at a time through the first worker only, and prints \
            min, median, p99 and mean round trips in microseconds for EchoJob and \
            GzipCompressionJob through Cluster.map, and for EchoJob straight through the \
            node (the node's run, without the scheduler). \
            The token comes from --token-file or the FPGACLUSTER_TOKEN environment variable.
            """,
        version: ToolVersion.current)

    /// What to measure.
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case throughput
        case latency
        case all
    }

    @Option(
        name: .customLong("workers"),
        help: ArgumentHelp("fpga-worker processes to measure, HOST:PORT,...", valueName: "LIST"))
    var workers: String?

    @Option(
        name: .customLong("local"),
        help: ArgumentHelp("Measure an embedded cluster of N simulated devices instead of workers.", valueName: "N"))
    var local: Int?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("File holding the workers' shared token (else FPGACLUSTER_TOKEN).", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("What to measure: throughput, latency or all.", valueName: "MODE"))
    var mode: Mode = .all

    @Option(help: ArgumentHelp("Bytes to echo in the throughput test, e.g. 1G or 256M.", valueName: "SIZE"))
    var bytes: String = "1G"

    @Option(name: .customLong("chunk-size"), help: ArgumentHelp("Bytes per echo run.", valueName: "SIZE"))
    var chunkSize: String = "1M"

    @Option(
        help: ArgumentHelp(
            "Bytes per Cluster.map call in the throughput test: the outputs of one batch are held until it ends.",
            valueName: "SIZE"))
    var batch: String = "64M"

    @Option(name: .customLong("latency-samples"), help: ArgumentHelp("Timed round trips per path.", valueName: "N"))
    var latencySamples: Int = 2000

    func validate() throws {
        for (name, text) in [("--bytes", bytes), ("--chunk-size", chunkSize), ("--batch", batch)]
        where ByteCount.parse(text) == nil {
            throw ValidationError("\(name): '\(text)' is not a size (try 1G, 1M, 4K or 65536)")
        }
        guard ByteCount.parse(bytes)! > 0 else { throw ValidationError("--bytes must be above 0") }
        guard Cluster.Configuration.chunkSizeRange.contains(ByteCount.parse(chunkSize)!) else {
            let range = Cluster.Configuration.chunkSizeRange
            throw ValidationError("--chunk-size must be between \(range.lowerBound) and \(range.upperBound) bytes")
        }
        guard ByteCount.parse(batch)! >= ByteCount.parse(chunkSize)! else {
            throw ValidationError("--batch must hold at least one chunk")
        }
        guard (1...1_000_000).contains(latencySamples) else {
            throw ValidationError("--latency-samples must be between 1 and 1000000")
        }
        switch (workers, local) {
        case (nil, nil): throw ValidationError("give --workers HOST:PORT,... or --local N")
        case (.some, .some): throw ValidationError("give --workers or --local, not both")
        case (.some, nil) where addresses.isEmpty: throw ValidationError("--workers needs at least one HOST:PORT")
        case (nil, .some(let count)) where !(1...256).contains(count):
            throw ValidationError("--local must be between 1 and 256")
        default: break
        }
    }

    private var addresses: [String] {
        (workers ?? "").split(separator: ",").map { $0.filter { $0 != " " } }.filter { !$0.isEmpty }
    }

    /// What the cluster runs on, for the reports.
    private var target: String {
        if let local { return "an embedded cluster of \(local) simulated device(s)" }
        return "\(addresses.count) worker(s)"
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            let token = try tokenFile.map { try AuthToken.load(file: $0) } ?? AuthToken.fromEnvironment()
            if mode != .latency { try await measureThroughput(token: token) }
            if mode != .throughput { try await measureLatency(token: token) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError(messages.message(for: error))
            throw ExitCode.failure
        }
    }

    // MARK: Throughput

    private func measureThroughput(token: AuthToken?) async throws {
        let total = ByteCount.parse(bytes)!
        let chunk = ByteCount.parse(chunkSize)!
        let perBatch = max(1, ByteCount.parse(batch)! / chunk)
        let cluster = try await connect(addresses, token: token, chunkSize: chunk)
        let memcpy = MemcpyBandwidth.measure(bytes: total, chunk: chunk)
        let job = EchoJob()
        let lanes = try await laneCount(cluster, job: job)

        // One pattern of two chunks; input i is the chunk-long window at an offset of its
        // own, so an output delivered at the wrong index fails the check. Every input
        // shares the pattern's storage: the input side needs 2 chunks of memory.
        let pattern = Pattern.bytes(count: 2 * chunk, seed: 0x9E37_79B9_7F4A_7C15)
        let chunkCount = (total + chunk - 1) / chunk
        func input(_ index: Int) -> ArraySlice<UInt8> {
            let offset = (index &* 4093) % chunk
            let length = min(chunk, total - index * chunk)
            return pattern[offset..<offset + length]
        }

        // Warm-up: a few chunks per lane, not timed, so that buffers and threads exist.
        let warmUp = (0..<min(chunkCount, 2 * lanes)).map(input)
        try check(try await cluster.map(job, inputs: warmUp), against: warmUp)

        var elapsed = Duration.zero
        var checked = 0
        var start = 0
        while start < chunkCount {
            let inputs = (start..<min(chunkCount, start + perBatch)).map(input)
            let began = ContinuousClock.now
            let outputs = try await cluster.map(job, inputs: inputs)
            elapsed += ContinuousClock.now - began
            checked += try check(outputs, against: inputs)
            start += inputs.count
        }
        precondition(checked == total, "checked \(checked) of \(total) bytes")

        let seconds = elapsed.seconds
        print(
            """
            throughput: EchoJob through Cluster.map, \(target), \(cluster.nodes.count) device(s), \
            \(lanes) lanes; \(ByteCount.format(total)) in \(ByteCount.format(chunk)) chunks, \(perBatch) chunks per run call; \
            every output checked
            """)
        let table = Table(["path", "bytes", "seconds", "MB/s"])
        let row = { (name: String, seconds: Double) in
            let rate = ByteCount.fixed(Double(total) / 1e6 / seconds, digits: 1)
            table.row([name, "\(total)", ByteCount.fixed(seconds, digits: 3), rate])
        }
        if local != nil {
            row("embedded", seconds)
        } else {
            row("client->worker", seconds)
            row("worker->client", seconds)
        }
        row("memcpy", memcpy)
        table.print()
        print(
            local != nil
                ? "embedded: each input through a lane and a node, whose driver copies it into an output of its own"
                : "both directions run at once: each carries all the bytes in the same time (MB = 10^6 bytes)")
        print(
            """
            memcpy: the same bytes in the same chunks, copied between two \(ByteCount.format(MemcpyBandwidth.span)) \
            buffers touched before (MB = 10^6 bytes)\n
            """)
        await disconnect(cluster)
    }

    /// Compares each output with its input; returns the bytes checked.
    @discardableResult
    private func check(_ outputs: [ArraySlice<UInt8>], against inputs: [ArraySlice<UInt8>]) throws -> Int {
        guard outputs.count == inputs.count else {
            throw BenchError("echo returned \(outputs.count) outputs for \(inputs.count) inputs")
        }
        var bytes = 0
        for (index, (output, input)) in zip(outputs, inputs).enumerated() {
            guard output.count == input.count, Self.equal(output, input) else {
                throw BenchError(
                    "echo output \(index) differs from its input (\(output.count) vs \(input.count) bytes)")
            }
            bytes += input.count
        }
        return bytes
    }

    private static func equal(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
            }
        }
    }

    // MARK: Latency

    private func measureLatency(token: AuthToken?) async throws {
        let size = 4096
        let cluster = try await connect(Array(addresses.prefix(1)), token: token, chunkSize: size)
        guard let node = cluster.nodes.first else { throw BenchError("the worker has no device") }
        let input = Pattern.text(count: size, seed: 42)[...]
        let warmUp = min(200, max(20, latencySamples / 10))
        let echo = EchoJob()
        let gzip = GzipCompressionJob(chunkSize: size)

        // Each awaited result is bound before it goes into a tuple: Swift 6.3.1 -O can
        // lose a value evaluated before a `try await` in the same expression.
        let echoCluster = try await sample(warmUp: warmUp) { try await cluster.map(echo, inputs: [input])[0] }
        let gzipCluster = try await sample(warmUp: warmUp) { try await cluster.map(gzip, inputs: [input])[0] }
        let echoNode = try await sample(warmUp: warmUp) { try await node.run(echo, input) }
        let results = [("echo/cluster", echoCluster), ("gzip/cluster", gzipCluster), ("echo/node", echoNode)]

        // The gzip output must inflate to the input (checked once, not timed).
        let member = try await cluster.map(gzip, inputs: [input])[0]
        guard try await cluster.decompress(Array(member)) == Array(input) else {
            throw BenchError("the gzip member does not inflate to its input")
        }

        print(
            """
            latency: one \(ByteCount.format(size)) chunk at a time through \(addresses.first ?? "this process") (\(node.name)); \
            \(latencySamples) timed round trips per path after \(warmUp) untimed
            """)
        let table = Table(["path", "min us", "median us", "p99 us", "mean us"])
        for (name, summary) in results {
            table.row([
                name, ByteCount.fixed(summary.min, digits: 1), ByteCount.fixed(summary.median, digits: 1),
                ByteCount.fixed(summary.p99, digits: 1), ByteCount.fixed(summary.mean, digits: 1),
            ])
        }
        table.print()
        print(
            """
            echo/cluster and gzip/cluster: Cluster.map with one input (scheduler, lanes, worker, result); \
            echo/node: the node's run alone
            """)
        await disconnect(cluster)
    }

    /// Runs `body` `warmUp` times untimed, then ``latencySamples`` times timed; checks
    /// that each echo or gzip output is not empty.
    private func sample(
        warmUp: Int, _ body: () async throws -> ArraySlice<UInt8>
    ) async throws -> Summary {
        for _ in 0..<warmUp { _ = try await body() }
        var microseconds: [Double] = []
        microseconds.reserveCapacity(latencySamples)
        let clock = ContinuousClock()
        for _ in 0..<latencySamples {
            let began = clock.now
            let output = try await body()
            microseconds.append((clock.now - began).seconds * 1e6)
            guard !output.isEmpty else { throw BenchError("a run returned nothing") }
        }
        return Summary(microseconds)
    }

    // MARK: Cluster

    private func connect(_ addresses: [String], token: AuthToken?, chunkSize: Int) async throws -> Cluster {
        if let local {
            return try Cluster(
                devices: .simulated(count: local), configuration: Cluster.Configuration(chunkSize: chunkSize))
        }
        let cluster = try await Cluster(
            workers: addresses, token: token, configuration: Cluster.Configuration(chunkSize: chunkSize))
        if !cluster.unreachableWorkers.isEmpty {
            let reasons = cluster.unreachableWorkers.sorted { $0.key < $1.key }.map {
                "\($0.key): \(ClusterOptions.reason($0.value))"
            }
            throw BenchError("unreachable: \(reasons.joined(separator: "; "))")
        }
        return cluster
    }

    /// The lanes Cluster.map makes for `job`: the sum of the nodes' capacities.
    private func laneCount(_ cluster: Cluster, job: EchoJob) async throws -> Int {
        var lanes = 0
        for node in cluster.nodes { lanes += try await node.capacity(for: job) }
        return lanes
    }

    private func disconnect(_ cluster: Cluster) async {
        var seen: Set<String> = []
        for node in cluster.nodes {
            if let remote = node as? RemoteNode, seen.insert(remote.connection.endpoint.description).inserted {
                await remote.connection.disconnect()
            }
        }
    }
}

/// Min, median, 99th percentile (nearest rank) and mean of samples.
struct Summary {
    var min: Double
    var median: Double
    var p99: Double
    var mean: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        let count = sorted.count
        min = sorted[0]
        median = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
        let rank = Int((0.99 * Double(count)).rounded(.up))
        p99 = sorted[Swift.min(count, Swift.max(1, rank)) - 1]
        mean = sorted.reduce(0, +) / Double(count)
    }
}

/// Deterministic inputs.
enum Pattern {
    /// Bytes from xorshift64*: incompressible, and without repeats at any offset.
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed == 0 ? 1 : seed
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                let word = (state &* 0x2545_F491_4F6C_DD1D).littleEndian
                withUnsafeBytes(of: word) { word in
                    let take = Swift.min(8, buffer.count - offset)
                    buffer.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: take)
                }
                offset += 8
            }
        }
        return bytes
    }

    /// Words of lowercase letters and spaces: compresses to about half, like text.
    static func text(count: Int, seed: UInt64) -> [UInt8] {
        let words = ["cluster", "worker", "frame", "chunk", "device", "kernel", "member", "gzip", "the", "of"]
        var state = seed == 0 ? 1 : seed
        var text: [UInt8] = []
        text.reserveCapacity(count + 16)
        while text.count < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += words[Int(state >> 33) % words.count].utf8
            text.append(state & 0x100 == 0 ? 0x20 : 0x0a)
        }
        return Array(text.prefix(count))
    }
}

/// A table printed with left-aligned first column and right-aligned others.
final class Table {
    private var rows: [[String]]

    init(_ header: [String]) { rows = [header] }

    func row(_ cells: [String]) { rows.append(cells) }

    func print() {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                line += column == 0 ? "  " + cell + pad : "   " + pad + cell
            }
            Swift.print(line)
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// An error whose description is the whole message.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The tool's one-line messages on standard error.
let messages = ToolMessages(tool: "fpga-transport-bench") { ClusterOptions.hint(for: $0) }

/// Writes `fpga-transport-bench: message` to standard error, unbuffered.
func printError(_ message: String) { messages.print(message) }

/// memcpy's bandwidth on this host, the ceiling of any path that copies its bytes once.
enum MemcpyBandwidth {
    /// Bytes of each of the two buffers: past the caches of this kind of machine.
    static let span = 64 << 20

    /// Seconds to copy `bytes` in `chunk`-sized pieces between two buffers of ``span``
    /// bytes, both touched before.
    static func measure(bytes: Int, chunk: Int) -> Double {
        let span = max(chunk, Self.span / chunk * chunk)
        let source = [UInt8](repeating: 0x5A, count: span)
        var destination = [UInt8](repeating: 0, count: span)
        let clock = ContinuousClock()
        let began = clock.now
        source.withUnsafeBytes { source in
            destination.withUnsafeMutableBytes { destination in
                var offset = 0
                var done = 0
                while done < bytes {
                    let length = min(chunk, bytes - done)
                    memcpy(destination.baseAddress! + offset, source.baseAddress! + offset, length)
                    done += length
                    offset = offset + chunk >= span ? 0 : offset + chunk
                }
            }
        }
        let seconds = (clock.now - began).seconds
        precondition(destination[span - 1] == 0x5A, "memcpy copied nothing")
        return seconds
    }
}
