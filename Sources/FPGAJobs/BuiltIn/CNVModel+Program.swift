import Crypto
import FPGADevice
import FPGAKernels

extension CNVModel {
    /// The model's identity: the first 8 bytes of the SHA-256 of its version 1 file
    /// (``fileBytes()``), as 16 lowercase hexadecimal digits. Two models with different
    /// weights, thresholds or TensorNorm have different identities.
    public var identity: String {
        let digest = SHA256.hash(data: fileBytes())
        return digest.prefix(8).map { byte in
            let hex = Array("0123456789abcdef")
            return String([hex[Int(byte >> 4)], hex[Int(byte & 15)]])
        }.joined()
    }

    /// The name of the program (xclbin) that has this model's weights bound:
    /// ``classifierProgramPrefix`` and ``identity``, such as `cnv-3f09a1c2b4d5e6f7`.
    ///
    /// Nodes load programs by name and remote workers report them in their WELCOME, so
    /// two models never share a program, a driver or a device.
    public var programName: String { Self.classifierProgramPrefix + identity }

    /// The prefix of every classifier program's name.
    public static let classifierProgramPrefix = "cnv-"

    /// The model identity a classifier program name carries, or nil when `program` is
    /// not a classifier program.
    public static func identity(ofProgram program: String) -> String? {
        guard program.hasPrefix(classifierProgramPrefix) else { return nil }
        let identity = program.dropFirst(classifierProgramPrefix.count)
        guard identity.count == 16, identity.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return String(identity)
    }
}
