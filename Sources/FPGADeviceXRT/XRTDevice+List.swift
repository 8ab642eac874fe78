import CXRT
import FPGADevice

/// A card XRT finds on this host.
public struct XRTDeviceSummary: Sendable, Hashable, CustomStringConvertible {
    /// XRT's index, as `--device xrt:INDEX` takes it.
    public var index: Int
    /// The platform (shell) name, when XRT reports it.
    public var name: String?
    /// The PCIe address, when XRT reports it.
    public var bdf: String?

    public var description: String {
        "xrt:\(index)  \(bdf ?? "(no PCIe address)")  \(name ?? "(no platform name)")"
    }
}

extension XRTDevice {
    /// Checks that XRT can run here (`XILINX_XRT` names a directory) and configures it
    /// before its first use; see ``XRTDevice`` for what is set. Opening a device does
    /// this too.
    public static func prepareEnvironment() throws(DeviceError) {
        try check("start", cxrt_prepare())
    }

    /// Whether `XCL_EMULATION_MODE` selects an emulation shim (devices then exist without
    /// a card, and enumeration finds none).
    public static var isEmulation: Bool { cxrt_is_emulation() != 0 }

    /// The cards XRT finds, with their names and PCIe addresses.
    public static func list() throws(DeviceError) -> [XRTDeviceSummary] {
        var count: UInt32 = 0
        try check("enumerate devices", cxrt_device_count(&count))
        var found: [XRTDeviceSummary] = []
        for index in 0..<count {
            var pointer: OpaquePointer?
            guard cxrt_device_open(index, &pointer) == 0, let pointer else {
                found.append(XRTDeviceSummary(index: Int(index)))
                continue
            }
            let device = DeviceHandle(pointer)
            found.append(
                XRTDeviceSummary(
                    index: Int(index), name: property(of: device.pointer, key: 0),
                    bdf: property(of: device.pointer, key: 1)))
        }
        return found
    }
}
