import FPGADevice
import FPGADeviceXRT
import FPGATestSupport

/// A device on XRT's noop shim with `xclbin` loaded.
func noopDevice(loading writer: AXLFWriter? = nil, name: String = "gzip") async throws -> XRTDevice {
    try NoopXRT.install()
    let device = try XRTDevice(index: 0)
    if let writer { try await device.loadXclbin(try Xclbin(axlf: writer.bytes(), name: name)) }
    return device
}

/// A CIFAR-like image batch: `count` images of 3072 bytes.
func images(_ count: Int) -> [UInt8] {
    (0..<(count * 3072)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 3072) }
}
