import FPGATransport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Musl)
    private let systemWrite = Musl.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif

@Suite("shared tokens")
struct AuthTokenTests {
    /// A fresh directory under /tmp, removed by `remove`.
    final class Folder {
        let path: String

        init() {
            var template = Array("/tmp/fpga-token-XXXXXX".utf8CString)
            path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        }

        func write(_ name: String, _ bytes: [UInt8]) -> String {
            let file = path + "/" + name
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            precondition(fd >= 0)
            _ = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            close(fd)
            return file
        }

        func remove() {
            _ = system("rm -rf '\(path)'")
        }
    }

    let sixteen = Array("0123456789abcdef".utf8)

    @Test func loadStripsOneTrailingNewline() throws {
        let folder = Folder()
        defer { folder.remove() }
        #expect(try AuthToken.load(file: folder.write("plain", sixteen)).bytes == sixteen)
        #expect(try AuthToken.load(file: folder.write("lf", sixteen + [0x0a])).bytes == sixteen)
        #expect(try AuthToken.load(file: folder.write("crlf", sixteen + [0x0d, 0x0a])).bytes == sixteen)
        // Only one: a second newline, or a lone carriage return, is part of the token.
        #expect(try AuthToken.load(file: folder.write("two", sixteen + [0x0a, 0x0a])).bytes == sixteen + [0x0a])
        #expect(try AuthToken.load(file: folder.write("cr", sixteen + [0x0d])).bytes == sixteen + [0x0d])
        // Any bytes, leading spaces included.
        let binary = [0x20] + [UInt8](0...255)
        #expect(try AuthToken.load(file: folder.write("binary", binary)).bytes == binary)
    }

    @Test func loadErrors() throws {
        let folder = Folder()
        defer { folder.remove() }
        let missing = folder.path + "/missing"
        #expect(throws: AuthTokenError.fileNotFound(missing)) { try AuthToken.load(file: missing) }
        let empty = folder.write("empty", [])
        #expect(throws: AuthTokenError.empty(source: "token file \(empty)")) { try AuthToken.load(file: empty) }
        let newline = folder.write("newline", [0x0a])
        #expect(throws: AuthTokenError.empty(source: "token file \(newline)")) { try AuthToken.load(file: newline) }
        let short = folder.write("short", Array("fifteen bytes!!\n".utf8))
        #expect(throws: AuthTokenError.tooShort(length: 15, source: "token file \(short)")) {
            try AuthToken.load(file: short)
        }
        #expect(throws: AuthTokenError.unreadable(folder.path, reason: "Is a directory")) {
            try AuthToken.load(file: folder.path)
        }
        let huge = folder.write("huge", [UInt8](repeating: 0x41, count: 70_000))
        #expect(throws: AuthTokenError.tooLong(source: "token file \(huge)")) { try AuthToken.load(file: huge) }
        #expect(
            AuthTokenError.tooShort(length: 3, source: "token file /t").description
                == "token file /t holds 3 bytes; a token needs at least 16")
        #expect(AuthTokenError.fileNotFound("/t").description == "token file /t not found")
    }

    @Test func tokensFromBytes() throws {
        #expect(try AuthToken(bytes: sixteen).bytes == sixteen)
        #expect(throws: AuthTokenError.tooShort(length: 15, source: "token")) {
            try AuthToken(bytes: Array(sixteen.dropLast()))
        }
        #expect(throws: AuthTokenError.empty(source: "token")) { try AuthToken(bytes: []) }
        // The description does not show the secret.
        #expect(try AuthToken(bytes: sixteen).description == "AuthToken(16 bytes)")
    }

    @Test func tokensFromTheEnvironment() throws {
        let name = "FPGACLUSTER_TOKEN_TEST_\(getpid())"
        #expect(try AuthToken.fromEnvironment(name) == nil)
        setenv(name, "", 1)
        #expect(try AuthToken.fromEnvironment(name) == nil)
        setenv(name, "a-token-of-24-characters", 1)
        #expect(try AuthToken.fromEnvironment(name)?.bytes == Array("a-token-of-24-characters".utf8))
        setenv(name, "short", 1)
        #expect(throws: AuthTokenError.tooShort(length: 5, source: "environment variable \(name)")) {
            try AuthToken.fromEnvironment(name)
        }
        unsetenv(name)
    }
}
