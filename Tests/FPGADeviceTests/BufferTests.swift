import FPGADevice
import Testing

@Suite("SimulatedDevice: buffers and memory")
struct BufferTests {
    @Test("fresh buffers read as zeros on the host and on the device")
    func freshBufferIsZero() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 100, group: 1)
        #expect(buffer.size == 100)
        #expect(buffer.group == 1)
        #expect(try await device.read(buffer, count: 100) == Array(repeating: 0, count: 100))
        #expect(try await device.fetch(buffer) == Array(repeating: 0, count: 100))
    }

    @Test("buffers get distinct ids")
    func distinctIDs() async throws {
        let device = try await TestProgram.device()
        var ids: Set<UInt64> = []
        for _ in 0..<10 { ids.insert(try await device.allocateBuffer(size: 8, group: 0).id) }
        #expect(ids.count == 10)
    }

    @Test("write, read and withMappedBuffer see the host side")
    func hostSide() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        try await device.write(buffer, [1, 2, 3], offset: 2)
        #expect(try await device.read(buffer, count: 8) == [0, 0, 1, 2, 3, 0, 0, 0])
        #expect(try await device.read(buffer, offset: 3, count: 2) == [2, 3])
        let sum = try await device.withMappedBuffer(buffer) { host in
            let sum = host.reduce(0) { $0 + Int($1) }
            host[7] = 42
            return sum
        }
        #expect(sum == 6)
        #expect(try await device.read(buffer, offset: 7, count: 1) == [42])
        // Writing a non-contiguous collection works too.
        try await device.write(buffer, (10..<13).lazy.map { UInt8($0) }, offset: 0)
        #expect(try await device.read(buffer, count: 3) == [10, 11, 12])
    }

    @Test("an allocation bigger than the bank throws outOfDeviceMemory")
    func tooBig() async throws {
        let device = try await TestProgram.device()
        await #expect(throws: DeviceError.outOfDeviceMemory(group: 2, requested: 4097, available: 4096)) {
            try await device.allocateBuffer(size: 4097, group: 2)
        }
        await #expect(throws: DeviceError.outOfDeviceMemory(group: 0, requested: (1 << 20) + 1, available: 1 << 20)) {
            try await device.allocateBuffer(size: (1 << 20) + 1, group: 0)
        }
    }

    @Test("bank usage adds up, and freeing gives the memory back")
    func bankAccounting() async throws {
        let device = try await TestProgram.device()
        let first = try await device.allocateBuffer(size: 3000, group: 2)
        await #expect(throws: DeviceError.outOfDeviceMemory(group: 2, requested: 2000, available: 1096)) {
            try await device.allocateBuffer(size: 2000, group: 2)
        }
        // Other banks are separate.
        _ = try await device.allocateBuffer(size: 2000, group: 1)
        let second = try await device.allocateBuffer(size: 1096, group: 2)
        try await device.freeBuffer(first)
        try await device.freeBuffer(second)
        _ = try await device.allocateBuffer(size: 4096, group: 2)
    }

    @Test("a memory group the xclbin does not have throws invalidMemoryGroup", arguments: [-1, 3, 64])
    func invalidGroup(group: Int) async throws {
        let device = try await TestProgram.device()
        await #expect(throws: DeviceError.invalidMemoryGroup(group)) {
            try await device.allocateBuffer(size: 16, group: group)
        }
    }

    @Test("a freed buffer is invalid everywhere")
    func useAfterFree() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.buffer([1, 2, 3, 4])
        try await device.freeBuffer(buffer)
        await #expect(throws: DeviceError.invalidBuffer) { try await device.freeBuffer(buffer) }
        await #expect(throws: DeviceError.invalidBuffer) { try await device.write(buffer, [1]) }
        await #expect(throws: DeviceError.invalidBuffer) { try await device.read(buffer, count: 1) }
        await #expect(throws: DeviceError.invalidBuffer) { try await device.sync(buffer, .toDevice) }
        await #expect(throws: DeviceError.invalidBuffer) { try await device.sync(buffer, .fromDevice) }
        await #expect(throws: DeviceError.invalidBuffer) {
            try await device.withMappedBuffer(buffer) { _ in 0 }
        }
        let probe = try await device.openKernel("probe:{probe_1}")
        await #expect(throws: DeviceError.invalidBuffer) {
            try await device.start(probe, arguments: [.buffer(buffer), .scalar(UInt32(0)), .scalar(0)])
        }
    }

    @Test("a handle whose size does not match the buffer is invalid")
    func forgedHandle() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 16, group: 0)
        let forged = BufferObject(id: buffer.id, size: 32, group: 0, owner: buffer.owner)
        await #expect(throws: DeviceError.invalidBuffer) { try await device.sync(forged, .toDevice) }
        let unknown = BufferObject(id: 999_999, size: 16, group: 0, owner: buffer.owner)
        await #expect(throws: DeviceError.invalidBuffer) { try await device.read(unknown, count: 1) }
    }

    @Test(
        "a sync outside the buffer throws bufferRange",
        arguments: [
            (offset: -1, size: 4 as Int?),
            (offset: 0, size: 65),
            (offset: 60, size: 5),
            (offset: 10, size: -1),
            (offset: 65, size: nil),
            (offset: 64, size: 1),
        ])
    func syncRange(offset: Int, size: Int?) async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 64, group: 0)
        for direction in [SyncDirection.toDevice, .fromDevice] {
            let expectedSize = size ?? (64 - offset)
            await #expect(throws: DeviceError.bufferRange(offset: offset, size: expectedSize, bufferSize: 64)) {
                try await device.sync(buffer, direction, size: size, offset: offset)
            }
        }
    }

    @Test("syncs at the edges of the buffer are accepted")
    func syncEdges() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 64, group: 0)
        try await device.sync(buffer, .toDevice, size: 64, offset: 0)
        try await device.sync(buffer, .toDevice, size: 0, offset: 64)
        try await device.sync(buffer, .fromDevice, size: nil, offset: 64)
        try await device.sync(buffer, .fromDevice, size: 1, offset: 63)
    }

    @Test("reads and writes outside the buffer throw bufferRange")
    func readWriteRange() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        await #expect(throws: DeviceError.bufferRange(offset: 6, size: 3, bufferSize: 8)) {
            try await device.write(buffer, [1, 2, 3], offset: 6)
        }
        await #expect(throws: DeviceError.bufferRange(offset: -1, size: 1, bufferSize: 8)) {
            try await device.write(buffer, [1], offset: -1)
        }
        await #expect(throws: DeviceError.bufferRange(offset: 0, size: 9, bufferSize: 8)) {
            try await device.read(buffer, count: 9)
        }
        await #expect(throws: DeviceError.bufferRange(offset: 4, size: -1, bufferSize: 8)) {
            try await device.read(buffer, offset: 4, count: -1)
        }
    }

    @Test("sync to the device copies host to device only, sync from the device the reverse")
    func syncDirections() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 4, group: 0)
        try await device.write(buffer, [1, 2, 3, 4])
        // The device side is still zeros: syncing from it overwrites the host's bytes.
        try await device.sync(buffer, .fromDevice)
        #expect(try await device.read(buffer, count: 4) == [0, 0, 0, 0])

        try await device.write(buffer, [5, 6, 7, 8])
        try await device.sync(buffer, .toDevice)
        try await device.write(buffer, [0, 0, 0, 0])
        try await device.sync(buffer, .fromDevice)
        #expect(try await device.read(buffer, count: 4) == [5, 6, 7, 8])
    }

    @Test("syncToDevice fills device memory and syncFromDevice reads it, neither touching the host side")
    func syncWithoutHostSide() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        try await device.write(buffer, Array(repeating: 0xEE, count: 8))
        try await device.syncToDevice(buffer, from: [1, 2, 3], offset: 2)
        try await device.syncToDevice(buffer, from: (7..<9).lazy.map { UInt8($0) })
        #expect(try await device.read(buffer, count: 8) == Array(repeating: 0xEE, count: 8))
        #expect(try await device.syncFromDevice(buffer, size: 8) { Array($0) } == [7, 8, 1, 2, 3, 0, 0, 0])
        #expect(try await device.syncFromDevice(buffer, size: 2, offset: 3) { Array($0) } == [2, 3])
        #expect(try await device.read(buffer, count: 8) == Array(repeating: 0xEE, count: 8))
        // A plain sync from the device brings the bytes to the host side.
        #expect(try await device.fetch(buffer) == [7, 8, 1, 2, 3, 0, 0, 0])
    }

    @Test("syncToDevice and syncFromDevice outside the buffer throw bufferRange and copy nothing")
    func syncWithoutHostSideRange() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        await #expect(throws: DeviceError.bufferRange(offset: 6, size: 3, bufferSize: 8)) {
            try await device.syncToDevice(buffer, from: [1, 2, 3], offset: 6)
        }
        await #expect(throws: DeviceError.bufferRange(offset: -1, size: 1, bufferSize: 8)) {
            try await device.syncToDevice(buffer, from: [1], offset: -1)
        }
        await #expect(throws: DeviceError.bufferRange(offset: 0, size: 9, bufferSize: 8)) {
            try await device.syncFromDevice(buffer, size: 9) { _ in () }
        }
        await #expect(throws: DeviceError.bufferRange(offset: 4, size: -1, bufferSize: 8)) {
            try await device.syncFromDevice(buffer, size: -1, offset: 4) { _ in () }
        }
        #expect(try await device.fetch(buffer) == Array(repeating: 0, count: 8))
    }

    @Test("syncToDevice(count:offset:filling:) lets the fill write device memory and syncs only what it wrote")
    func syncByFilling() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        try await device.write(buffer, Array(repeating: 0xEE, count: 8))
        let written = try await device.syncToDevice(buffer, count: 4, offset: 3) { target in
            #expect(target.count == 4)
            target[0] = 1
            target[1] = 2
            return 2
        }
        #expect(written == 2)
        #expect(try await device.read(buffer, count: 8) == Array(repeating: 0xEE, count: 8))
        #expect(try await device.syncFromDevice(buffer, size: 8) { Array($0) } == [0, 0, 0, 1, 2, 0, 0, 0])
        await #expect(throws: DeviceError.fillOutOfRange(5, count: 4)) {
            try await device.syncToDevice(buffer, count: 4, offset: 0) { _ in 5 }
        }
        await #expect(throws: DeviceError.fillOutOfRange(-1, count: 4)) {
            try await device.syncToDevice(buffer, count: 4, offset: 0) { _ in -1 }
        }
        await #expect(throws: DeviceError.bufferRange(offset: 6, size: 3, bufferSize: 8)) {
            try await device.syncToDevice(buffer, count: 3, offset: 6) { _ in 0 }
        }
        struct Unreadable: Error {}
        await #expect(throws: Unreadable.self) {
            try await device.syncToDevice(buffer, count: 4, offset: 0) { _ in throw Unreadable() }
        }
    }

    @Test("a partial sync copies only its range")
    func partialSync() async throws {
        let device = try await TestProgram.device()
        let buffer = try await device.allocateBuffer(size: 8, group: 0)
        try await device.write(buffer, [1, 2, 3, 4, 5, 6, 7, 8])
        try await device.sync(buffer, .toDevice, size: 3, offset: 2)
        try await device.write(buffer, Array(repeating: 0xEE, count: 8))
        try await device.sync(buffer, .fromDevice, size: 4, offset: 1)
        #expect(try await device.read(buffer, count: 8) == [0xEE, 0, 3, 4, 5, 0xEE, 0xEE, 0xEE])
    }

    @Test("buffers of one device are not valid on another")
    func otherDevice() async throws {
        let one = try await TestProgram.device(name: "sim-one")
        let two = try await TestProgram.device(name: "sim-two")
        let buffer = try await one.allocateBuffer(size: 16, group: 0)
        await #expect(throws: DeviceError.invalidBuffer) { try await two.read(buffer, count: 1) }
    }

    @Test("a buffer of another device is rejected even when that device has a buffer with the same id and size")
    func otherDeviceSameID() async throws {
        let one = try await TestProgram.device(name: "sim-one")
        let two = try await TestProgram.device(name: "sim-two")
        let mine = try await one.allocateBuffer(size: 16, group: 0)
        let theirs = try await two.allocateBuffer(size: 16, group: 0)
        try #require(mine.id == theirs.id, "the collision this test needs did not happen")
        await #expect(throws: DeviceError.invalidBuffer) { try await two.read(mine, count: 1) }
    }
}
