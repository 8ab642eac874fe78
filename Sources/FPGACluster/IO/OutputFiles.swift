/// Whole-file outputs written all or nothing, such as a classification's labels and
/// logits.
public enum OutputFiles {
    /// Writes each file to a temporary file beside it, then renames them all into place.
    /// When any write fails, every temporary file is removed and nothing is left. `-`
    /// writes to standard output. An existing file is replaced only when `overwrite` is true
    /// (checked before anything is written, and again at the rename).
    public static func write(_ files: [(path: String, bytes: [UInt8])], overwrite: Bool) async throws {
        var writers: [FileWriter] = []
        do {
            for file in files { writers.append(try FileWriter(path: file.path, overwrite: overwrite)) }
            for (writer, file) in zip(writers, files) { try await writer.write(file.bytes) }
            for writer in writers { try await writer.commit() }
        } catch {
            for writer in writers { await writer.abort() }
            throw error
        }
    }
}
