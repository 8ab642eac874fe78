import FPGADevice
import FPGAKernels
import FPGATestSync
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Bytes in large (at least 128 MiB) anonymous read-write mappings of this process, from
/// `/proc/self/maps`: where big buffers live, and little else (thread stacks and malloc
/// arenas are smaller), so other tests running meanwhile hardly change it.
private func largeAnonymousMappings() -> Int {
    let fd = open("/proc/self/maps", O_RDONLY)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        text += chunk[..<count]
    }
    var total = 0
    for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5, fields[1] == "rw-p", fields[4] == "0" else { continue }
        let bounds = fields[0].split(separator: "-").compactMap { UInt(String($0), radix: 16) }
        guard bounds.count == 2 else { continue }
        let size = Int(bounds[1] - bounds[0])
        if size >= 128 << 20 { total += size }
    }
    return total
}

/// How many threads of this process have a name starting with `prefix`.
private func threadCount(prefix: String) -> Int { ProcessThreads.count { $0.hasPrefix(prefix) } }

@Suite("SimulatedDevice lifetime")
struct DeviceLifetimeTests {
    @Test("a released device stops its actor thread and its compute-unit threads")
    func threadsStop() async throws {
        do {
            let device = SimulatedDevice(name: "simthr", kernels: [GzipCompBlockKernel()])
            try await device.loadXclbin(.gzipCompression(computeUnits: 3))
            _ = try await device.allocateBuffer(size: 64, group: 0)
            // The actor's thread and one per compute unit.
            #expect(await eventually { threadCount(prefix: "simthr") == 4 })
        }
        #expect(await eventually { threadCount(prefix: "simthr") == 0 })
    }

    @Test("reloading a program stops the old compute-unit threads")
    func reloadStopsUnitThreads() async throws {
        let device = SimulatedDevice(name: "simrel", kernels: [GzipCompBlockKernel()])
        try await device.loadXclbin(.gzipCompression(computeUnits: 3))
        // Threads name themselves once they start.
        #expect(await eventually { threadCount(prefix: "simrel-cu") == 3 })
        try await device.loadXclbin(.gzipCompression(computeUnits: 1))
        #expect(await eventually { threadCount(prefix: "simrel-cu") == 1 })
    }

    @Test("a released device gives back the memory of the buffers it still holds")
    func releasedDeviceFreesBuffers() async throws {
        // 8 buffers of 256 MiB, host and device sides: 4 GiB of address space. Never
        // touched, so no resident memory is used.
        let before = largeAnonymousMappings()
        do {
            let device = SimulatedDevice(name: "simmem", kernels: [GzipCompBlockKernel()])
            try await device.loadXclbin(.gzipCompression(computeUnits: 8))
            for group in 0..<8 { _ = try await device.allocateBuffer(size: 256 << 20, group: group) }
            #expect(largeAnonymousMappings() - before >= 4 << 30)
        }
        #expect(await eventually { threadCount(prefix: "simmem") == 0 }, "the device was not released")
        let growth = largeAnonymousMappings() - before
        #expect(growth < 1 << 30, "\(growth >> 20) MiB still mapped after the device went away")
    }
}
