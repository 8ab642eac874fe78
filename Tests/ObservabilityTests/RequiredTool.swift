import FPGATestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A program these tests start, from a Debian package that `make test-observability`
/// installs: found on the PATH, or a failure that says how to get it. Never a skip: these
/// tests run only where their tools were asked for.
struct RequiredTool: Sendable {
    /// The program's absolute path.
    let path: String

    /// Finds `name` on the PATH; throws a ``ToolFailure`` naming Debian's `package`.
    init(_ name: String, package: String) throws {
        var path = "/usr/bin:/bin"
        if let raw = getenv("PATH") { path = String(cString: raw) }
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        let candidates: [String] = directories.map { "\($0)/\(name)" }
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw ToolFailure(
                "\(name) not found on the PATH: `make test-observability` installs Debian's \(package) package")
        }
        self.path = found
    }
}
