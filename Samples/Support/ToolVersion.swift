/// The version every sample tool prints for `--version`: the package's, in Semantic
/// Versioning. Nothing is released yet (CHANGELOG.md has only its Unreleased section), so
/// it is the first release's number marked as a development build; a release sets it with
/// the CHANGELOG's heading for that version.
public enum ToolVersion {
    public static let current = "0.1.0-dev"
}
