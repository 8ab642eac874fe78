import FPGACluster
import FPGATestSupport
import FPGATransport
import Testing

/// `fpga-worker --device xrt:0` on XRT's noop shim: the worker opens the device through
/// XRT, reads its xclbin files and reports their kernels to the cluster.
@Suite("fpga-worker with an XRT device on the noop shim", .serialized)
struct XRTWorkerTests {
    @Test func joinsAClusterAndReportsItsKernels() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("gzip.xclbin", AXLFWriter.gzip().bytes())
        try folder.write("cnv.xclbin", AXLFWriter.finn().bytes())
        let worker = try await startWorker(
            [
                "--device", "xrt:0", "--device", "sim", "--xclbin", "gzip=\(folder.file("gzip.xclbin"))",
                "--xclbin", "cnv=\(folder.file("cnv.xclbin"))",
            ], environment: try NoopXRT.environment())
        defer { worker.stop() }

        let remote = WorkerConnection(
            endpoint: try Endpoint(parsing: worker.address), token: nil, settings: testSettings())
        let welcome = try await remote.connect()
        await remote.disconnect()
        try #require(welcome.devices.map(\.name) == ["xrt:0", "sim1"])
        #expect(welcome.devices.map(\.kind) == [.xrt, .simulated])
        let programs = welcome.devices[0].programs.filter { $0.name != "echo" }
        try #require(programs.map(\.name) == ["cnv", "gzip"])
        #expect(
            programs[0].kernels == [
                Welcome.Kernel(name: "StreamingDataflowPartition_0", computeUnits: 1),
                Welcome.Kernel(name: "StreamingDataflowPartition_2", computeUnits: 1),
            ])
        #expect(programs[1].kernels == [Welcome.Kernel(name: "xilGzipCompBlock", computeUnits: 3)])
        // What each program's driver takes: one FINN batch; two gzip chunks per compute unit.
        #expect(programs.map(\.capacity) == [1, 6])
        // The largest, and one more that waits in the worker while the device is busy.
        #expect(welcome.devices[0].capacity == 7)

        let cluster = try await Cluster(workers: [worker.address], token: nil, configuration: testConfiguration())
        #expect(cluster.nodes.map(\.name) == ["\(worker.address)/xrt:0", "\(worker.address)/sim1"])
        #expect(cluster.unreachableWorkers.isEmpty)
    }

    @Test func badArgumentsAreOneLineErrors() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("garbage.xclbin", [UInt8](repeating: 0x5a, count: 1000))
        let environment = try NoopXRT.environment().map { "\($0.key)=\($0.value)" }
        // With the exit status each gets (sysexits.h: 64 usage, 66 no input, 78 configuration).
        let cases: [([String], Int32, String)] = [
            (["--device", "xrt:0"], 78, "needs at least one --xclbin"),
            (["--device", "xrt:zz", "--xclbin", "gzip=/nonexistent"], 66, "No such file"),
            (["--device", "xrt:0", "--xclbin", "gzip"], 64, "NAME=PATH"),
            (["--device", "xrt:0", "--xclbin", "gzip=\(folder.file("garbage.xclbin"))"], 78, "magic"),
            (["--device", "xrt:nope", "--xclbin", "gzip=\(folder.file("garbage.xclbin"))"], 78, "magic"),
            (["--xclbin", "gzip=/x"], 78, "for XRT devices"),
        ]
        for (arguments, status, message) in cases {
            let result = try await ExternalTools.run(
                environment + [workerExecutable, "--listen", "127.0.0.1:0"] + arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
            #expect(result.error.split(separator: "\n").count == 1, "\(arguments): \(result.error)")
        }
        // A device string that is neither an index nor a PCIe address, with a good xclbin.
        try folder.write("gzip.xclbin", AXLFWriter.gzip().bytes())
        let bad = try await ExternalTools.run(
            environment + [
                workerExecutable, "--listen", "127.0.0.1:0", "--device", "xrt:nope", "--xclbin",
                "gzip=\(folder.file("gzip.xclbin"))",
            ])
        #expect(bad.status == 64)
        #expect(bad.error.contains("bad device 'xrt:nope'"), "\(bad.error)")
        // Listing under noop: XRT enumerates no cards, and says why.
        let list = try await ExternalTools.run(environment + [workerExecutable, "--list-devices"])
        #expect(list.status == 0)
        #expect(String(decoding: list.output, as: UTF8.self).hasPrefix("no XRT devices found"))
    }
}
