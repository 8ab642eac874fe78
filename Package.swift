// swift-tools-version: 6.1
// The direction of dependencies, lowest first:
//   C shims (CPlatform, CBinaryNet, CZlib, CISAL, CLibUV, CAres, CXRT) -> FPGAExecution (threads) ->
//   FPGATransport (libuv, wire protocol) and FPGADevice (device model, simulated device, AXLF reader) ->
//   FPGADeviceXRT (real cards through XRT; only fpga-worker and its tests need it) ->
//   FPGAKernels (software kernels) -> FPGADrivers (host drivers, gzip format) ->
//   FPGAJobs (jobs, their wire codecs, nodes in this process: what a client and a worker process
//   share) -> FPGACluster (the client: Cluster, remote nodes, scheduling) and FPGAWorkerServer
//   (the worker process's server) -> Samples.
import PackageDescription

// The sample tools' link. `--static-swift-stdlib` (release builds) links with
// `-export-dynamic`, which puts every symbol of the program, 28,000 for fpga-compress, in
// its dynamic symbol table: the loader hashes them and the runtime's backtracer scans them
// (dladdr) at every start, and nothing looks them up. Leaving them out takes ~0.6 ms (8%)
// off fpga-compress's start-up. Crash backtraces read the full symbol table from the file.
let sampleLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))
]

// fpga-compress's release link also takes libstdc++ from its static archive, through the
// linker script in Samples/Compress/Link: loading libstdc++.so.6 and resolving its symbols
// took ~0.7 ms (11 %) of every run of a one-line file, and the tool competes with gzip and
// igzip on exactly such runs. Only this tool: fpga-worker links XRT's C++ libraries, which
// need the shared libstdc++.
let compressLinkerSettings: [LinkerSetting] =
    sampleLinkerSettings + [
        .unsafeFlags(
            ["-L", Context.packageDirectory + "/Samples/Compress/Link"],
            .when(platforms: [.linux], configuration: .release))
    ]

let package = Package(
    name: "FPGACluster",
    products: [
        .library(name: "FPGACluster", targets: ["FPGACluster"]),
        .library(name: "FPGAWorkerServer", targets: ["FPGAWorkerServer"]),
        .library(name: "FPGAMetricsServer", targets: ["FPGAMetricsServer"]),
        .executable(name: "fpga-compress", targets: ["fpga-compress"]),
        .executable(name: "fpga-worker", targets: ["fpga-worker"]),
        .executable(name: "fpga-classify", targets: ["fpga-classify"]),
        .executable(name: "fpga-vadd", targets: ["fpga-vadd"]),
        .executable(name: "fpga-vadd-worker", targets: ["fpga-vadd-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        // fpga-worker --metrics-listen: /metrics and /health over HTTP. Without its default
        // traits: FullFoundation would link CoreFoundation and ICU into every tool (start-up,
        // see `make check-links`), ConfigurationSupport a configuration library we do not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through Hummingbird: the bind error's errno, and stopping the server.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // Tests only: TestClock (time advanced by hand) and async child processes.
        .package(url: "https://github.com/pointfreeco/swift-clocks", from: "1.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
    ],
    targets: [
        // MARK: C shims
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        // c-ares: DNS lookups with a chosen server and bounded waits, for `--workers dns:NAME`.
        .systemLibrary(
            name: "CAres",
            pkgConfig: "libcares",
            providers: [.apt(["libc-ares-dev"])]
        ),
        .systemLibrary(
            name: "CISAL",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),

        .target(name: "CPlatform"),
        // Bit-packed XNOR-popcount loops of the CNV-W1A1 kernel, with per-function target
        // attributes (popcnt, AVX2, AVX-512) chosen at run time.
        .target(name: "CBinaryNet"),

        // XRT's C++ API behind a plain C API (Debian's libxrt-dev). XRT's headers include each
        // other relative to /usr/include/xrt, which SwiftPM cannot add without a flag.
        .target(
            name: "CXRT",
            cxxSettings: [.unsafeFlags(["-I/usr/include/xrt"])],
            linkerSettings: [.linkedLibrary("xrt_coreutil")]
        ),

        // MARK: Threads and executors
        .target(name: "FPGAExecution", dependencies: ["CPlatform"]),

        // MARK: Transport
        .target(
            name: "FPGATransport",
            dependencies: [
                "CLibUV", "FPGAExecution",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // MARK: Devices
        .target(name: "FPGADevice", dependencies: ["FPGAExecution"]),
        // Real cards through XRT; only the targets that serve real cards depend on it.
        .target(name: "FPGADeviceXRT", dependencies: ["FPGADevice", "FPGAExecution", "CXRT"]),

        // MARK: Kernels and drivers
        .target(name: "FPGAKernels", dependencies: ["FPGADevice", "CBinaryNet", "CISAL", "CZlib"]),
        .target(name: "FPGADrivers", dependencies: ["FPGADevice", "FPGAKernels", "CISAL"]),

        // MARK: Jobs and nodes: what the client and the worker process share
        .target(
            name: "FPGAJobs",
            dependencies: [
                "FPGADrivers", "FPGAKernels", "FPGADevice", "FPGATransport",
                // Per-device run metrics, for whatever backend the application bootstraps.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // SHA-256 of model files, their identity (already in the graph through FPGATransport).
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // MARK: Client and server
        .target(
            name: "FPGACluster",
            dependencies: [
                "FPGAJobs", "FPGADrivers", "FPGAKernels", "FPGADevice", "FPGATransport", "FPGAExecution", "CPlatform",
                // FPGATransport's types hold libuv handles; their layout needs its headers.
                "CLibUV", "CAres",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),

        .target(
            name: "FPGAWorkerServer",
            dependencies: [
                "FPGAJobs", "FPGATransport", "FPGADevice", "FPGADrivers", "FPGAExecution", "CLibUV",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),

        // A worker process's metrics (Prometheus text) and device health over HTTP.
        .target(
            name: "FPGAMetricsServer",
            dependencies: [
                "FPGAJobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // MARK: Samples
        .target(
            name: "SampleSupport",
            dependencies: [
                "FPGACluster", "FPGATransport", "FPGAExecution", "CPlatform", "CLibUV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // --metrics-listen of the client tools: the dashboard and metrics while a job runs.
                "FPGAJobs", "FPGAMetricsServer",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Samples/Support"),
        .executableTarget(
            name: "fpga-compress",
            dependencies: [
                "SampleSupport",
                "FPGACluster", "FPGATransport", "CPlatform", "CLibUV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/Compress",
            exclude: ["Link"],
            linkerSettings: compressLinkerSettings
        ),

        .executableTarget(
            name: "fpga-classify",
            dependencies: [
                "SampleSupport",
                "FPGACluster", "FPGAKernels", "FPGATransport", "FPGAExecution",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/Classify",
            // The Brevitas converter is Python, run on its own.
            exclude: ["brevitas_export.py"],
            linkerSettings: sampleLinkerSettings
        ),

        .executableTarget(
            name: "fpga-worker",
            dependencies: [
                "SampleSupport",
                "FPGAWorkerServer", "FPGAMetricsServer", "FPGACluster", "FPGADeviceXRT", "FPGAKernels", "FPGATransport",
                "FPGAExecution", "CPlatform",
                "CLibUV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Samples/Worker",
            linkerSettings: sampleLinkerSettings
        ),

        .executableTarget(
            name: "fpga-transport-bench",
            dependencies: [
                "SampleSupport",
                "FPGACluster", "FPGATransport", "CLibUV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/TransportBench",
            linkerSettings: sampleLinkerSettings
        ),

        .executableTarget(
            name: "fpga-cnv-bench",
            dependencies: [
                "SampleSupport", "FPGAKernels", "FPGAExecution",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/CNVBench",
            linkerSettings: sampleLinkerSettings
        ),

        // A custom kernel written against the public API only (issue 10 item 6): `krnl_vadd`,
        // its xclbin, its host driver and its cluster job with the job's wire codec; a client
        // and a worker process that run it. None of them uses SampleSupport, which a user
        // would not have.
        .target(
            name: "VectorAdd", dependencies: ["FPGACluster", "FPGADevice", "FPGAExecution", "FPGATransport"],
            path: "Samples/CustomKernel/VectorAdd"),
        .executableTarget(
            name: "fpga-vadd",
            dependencies: [
                "VectorAdd", "FPGACluster", "FPGADevice", "FPGAKernels", "FPGATransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/CustomKernel/Client",
            linkerSettings: sampleLinkerSettings
        ),
        .executableTarget(
            name: "fpga-vadd-worker",
            dependencies: [
                "VectorAdd", "FPGACluster", "FPGADevice", "FPGAWorkerServer", "FPGATransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Samples/CustomKernel/Worker",
            linkerSettings: sampleLinkerSettings
        ),

        // MARK: Tests
        .target(
            name: "FPGATestSupport",
            dependencies: [
                "FPGACluster", "FPGADrivers", "FPGAKernels", "FPGADevice", "FPGAExecution", "CZlib", "FPGATestSync",
                .product(name: "Clocks", package: "swift-clocks"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            path: "Tests/FPGATestSupport"),
        // `make fuzz`: a million seeded frames through the decoder every connection reads with.
        .executableTarget(
            name: "fpga-transport-fuzz",
            dependencies: ["FPGATransport"],
            path: "Tests/FPGATransportFuzz"
        ),
        // How tests synchronize with the code under test: a TestClock that reports who sleeps
        // on it, waits for events bounded by a time limit, gates and barriers for dedicated
        // threads. It depends only on FPGAExecution, so every layer's tests can use it.
        .target(
            name: "FPGATestSync",
            dependencies: ["FPGAExecution", .product(name: "Clocks", package: "swift-clocks")],
            path: "Tests/FPGATestSync"),
        .testTarget(
            name: "FPGAExecutionTests",
            dependencies: ["FPGAExecution", "FPGATestSync", .product(name: "Clocks", package: "swift-clocks")]),
        .testTarget(
            name: "FPGATransportTests",
            dependencies: [
                "FPGATransport", "CLibUV", "FPGATestSupport", "FPGATestSync", "FPGAKernels",
                .product(name: "Clocks", package: "swift-clocks"),
            ]),
        .testTarget(
            name: "FPGADeviceTests",
            dependencies: [
                "FPGADevice", "FPGAKernels", "FPGAExecution", "FPGATestSync",
                .product(name: "Clocks", package: "swift-clocks"),
            ]),
        .testTarget(
            name: "FPGAJobsTests",
            dependencies: [
                "FPGAJobs", "FPGADevice", "FPGADrivers", "FPGAKernels", "FPGATransport", "FPGATestSupport",
                "FPGATestSync",
                .product(name: "Clocks", package: "swift-clocks"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(name: "FPGAKernelsTests", dependencies: ["FPGAKernels", "FPGADevice", "FPGAExecution", "CZlib"]),
        .testTarget(
            name: "FPGADriversTests",
            dependencies: [
                "FPGADrivers", "FPGAKernels", "FPGATestSupport", "FPGATestSync", "CZlib",
                .product(name: "Clocks", package: "swift-clocks"),
            ]),
        .testTarget(
            name: "FPGADeviceXRTTests",
            dependencies: ["FPGADeviceXRT", "FPGADrivers", "FPGAKernels", "FPGATestSupport", "CXRT"]),
        .testTarget(
            name: "FPGAClusterTests",
            dependencies: [
                "FPGACluster", "FPGATestSupport", "FPGATestSync", "FPGATransport", "FPGAExecution", "CLibUV",
                .product(name: "Clocks", package: "swift-clocks"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "FPGAWorkerServerTests",
            dependencies: [
                "FPGAWorkerServer", "FPGACluster", "FPGATransport", "FPGADevice", "FPGAKernels", "FPGATestSupport",
                "CLibUV", .product(name: "Clocks", package: "swift-clocks"), "FPGATestSync",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                // A metrics server beside the data port (MetricsBesideDataPortTests).
                "FPGAMetricsServer", .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .testTarget(
            name: "FPGAMetricsServerTests",
            dependencies: [
                "FPGAMetricsServer", "FPGAJobs", "FPGADevice", "FPGATestSupport", "FPGATestSync",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .testTarget(name: "FPGAClusterStreamTests", dependencies: ["FPGACluster", "FPGATestSupport"]),
        .testTarget(
            name: "CompressCommandTests",
            dependencies: [
                "fpga-compress", "FPGAKernels", "FPGATestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "ClassifyCommandTests",
            dependencies: [
                "fpga-classify", "fpga-worker", "FPGACluster", "FPGAExecution", "FPGAKernels", "FPGATestSupport",
            ]),
        .testTarget(
            name: "WorkerIntegrationTests",
            dependencies: [
                "fpga-worker", "fpga-compress", "FPGACluster", "FPGADevice", "FPGADrivers", "FPGAKernels",
                "FPGATransport", "FPGATestSupport", "FPGATestSync", "FPGAExecution", "CLibUV",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: ["fpga-worker", "fpga-compress", "FPGACluster", "FPGATestSupport", "FPGATestSync"]),
        .testTarget(name: "VectorAddTests", dependencies: ["VectorAdd", "FPGADevice", "FPGAKernels"]),
        .testTarget(
            name: "CustomKernelSampleTests",
            dependencies: [
                "fpga-vadd", "fpga-vadd-worker", "VectorAdd", "FPGACluster", "FPGAKernels", "FPGATestSupport",
            ]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
