import Testing

/// The programs this target's tests start are installed: a missing one fails here with the
/// package to install, as well as in the tests that need it.
@Suite("observability tools")
struct RequiredToolTests {
    @Test(arguments: [("prometheus", "prometheus"), ("chromium", "chromium"), ("tmux", "tmux")])
    func isInstalled(name: String, package: String) throws {
        _ = try RequiredTool(name, package: package)
    }
}
