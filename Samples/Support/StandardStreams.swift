#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Writes text to standard error, unbuffered.
public func writeStandardError(_ text: String) { writeAll(STDERR_FILENO, text) }

/// Writes text to standard output, unbuffered.
public func writeStandardOutput(_ text: String) { writeAll(STDOUT_FILENO, text) }

private func writeAll(_ descriptor: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let put = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if put <= 0 { return }
            done += put
        }
    }
}
