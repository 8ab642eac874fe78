import FPGAKernels

extension ImageBatch {
    /// Reads an image file (`-` for standard input) on a reader thread. Without a format,
    /// guesses it from the name and length (``ImageFileFormat/guess(path:byteCount:)``).
    ///
    /// Throws ``FileJobError`` when the file cannot be read and ``ImageFileError/file(_:_:)``
    /// when its bytes are not valid images.
    public static func read(path: String, format: ImageFileFormat? = nil) async throws -> ImageBatch {
        let (bytes, _) = try await readWholeFile(path: path)
        guard let format = format ?? ImageFileFormat.guess(path: path, byteCount: bytes.count) else {
            throw ImageFileError.file(path, .unknownFormat(bytes.count))
        }
        do {
            return try ImageBatch(bytes: bytes, format: format)
        } catch {
            throw ImageFileError.file(path, error)
        }
    }
}

extension CNVModel {
    /// Reads a CNV-W1A1 model file (format version 1) on a reader thread.
    ///
    /// Throws ``FileJobError`` when the file cannot be read and `CNVModelError.file` when
    /// its bytes are not a valid model.
    public static func read(path: String) async throws -> CNVModel {
        // A file of the wrong size is refused without reading it all.
        let (bytes, size) = try await readWholeFile(path: path, limit: fileSize + 1)
        do {
            return try CNVModel(fileBytes: bytes)
        } catch .wrongSize(_, let expected) {
            throw CNVModelError.file(path, .wrongSize(size ?? bytes.count, expected: expected))
        } catch {
            throw CNVModelError.file(path, error)
        }
    }
}

/// The first `limit` bytes of `path` (`-` for standard input), read on the reader's own
/// thread, and the file's size when it is a regular file.
private func readWholeFile(path: String, limit: Int = .max) async throws -> (bytes: [UInt8], size: Int?) {
    let reader = try FileReader(path: path)
    if let size = reader.size {
        return (try await reader.read(at: 0, count: min(size, limit)), size)
    }
    var bytes: [UInt8] = []
    while bytes.count < limit, let chunk = try await reader.nextChunk(maximum: min(1 << 20, limit - bytes.count)) {
        bytes += chunk.input
    }
    return (bytes, nil)
}
