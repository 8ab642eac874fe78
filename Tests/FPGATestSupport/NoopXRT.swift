import Foundation

/// XRT's noop shim, set up for this test process: `XCL_EMULATION_MODE=noop`, `XILINX_XRT`
/// pointing at a temporary folder whose `lib/` links to Debian's `libxrt_noop.so.2`, and
/// `XRT_INI_PATH` naming an ini file that turns the runtime log off. The folder's `lib/`
/// also links the hardware shim `libxrt_core.so.2`, for child processes run without
/// emulation.
///
/// XRT reads its environment once per process, so this runs once, before any test
/// touches XRT; tests that need another environment start a child process with
/// ``environment``-style variables of their own.
public enum NoopXRT {
    /// The folder standing in for the XRT installation, or the reason there is none.
    public static let root: Result<String, ToolFailure> = {
        do {
            let root = try makeRoot()
            setenv("XCL_EMULATION_MODE", "noop", 1)
            setenv("XILINX_XRT", root, 1)
            setenv("XRT_INI_PATH", "\(root)/xrt.ini", 1)
            return .success(root)
        } catch let failure as ToolFailure {
            return .failure(failure)
        } catch {
            return .failure(ToolFailure("\(error)"))
        }
    }()

    /// Sets the environment up (once) and returns the stand-in XRT folder.
    @discardableResult
    public static func install() throws -> String { try root.get() }

    /// The variables a child process needs to run on the noop shim.
    public static func environment() throws -> [String: String] {
        let root = try install()
        return ["XCL_EMULATION_MODE": "noop", "XILINX_XRT": root, "XRT_INI_PATH": "\(root)/xrt.ini"]
    }

    /// Where Debian (or Xilinx's package) installs the noop shim.
    static let shimFolders = [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/opt/xilinx/xrt/lib",
    ]

    private static func makeRoot() throws -> String {
        guard let shim = shimFolders.map({ "\($0)/libxrt_noop.so.2" }).first(where: FileManager.default.fileExists)
        else {
            throw ToolFailure("libxrt_noop.so.2 not found in \(shimFolders) (install libxrt1: make deps)")
        }
        let folder = try TemporaryDirectory("fpgacluster-xrt")
        try FileManager.default.createDirectory(atPath: folder.file("lib"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: folder.file("lib/libxrt_noop.so.2"), withDestinationPath: shim)
        // The hardware shim too, for child processes that run without emulation (and find
        // no card on a machine without one).
        let folderOfShim = (shim as NSString).deletingLastPathComponent
        if FileManager.default.fileExists(atPath: "\(folderOfShim)/libxrt_core.so.2") {
            try FileManager.default.createSymbolicLink(
                atPath: folder.file("lib/libxrt_core.so.2"), withDestinationPath: "\(folderOfShim)/libxrt_core.so.2")
        }
        try Data("[Runtime]\nruntime_log=null\n".utf8).write(to: URL(fileURLWithPath: folder.file("xrt.ini")))
        return folder.path
    }
}
