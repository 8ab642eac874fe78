#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The threads of this process as the kernel lists them (`/proc/self/task`), for tests that
/// check that threads start, name themselves and stop.
public enum ProcessThreads {
    /// The calling thread's name as the kernel records it (`/proc/thread-self/comm`).
    public static var currentName: String { readSmallFile("/proc/thread-self/comm") ?? "" }

    /// How many threads of this process have a name for which `matches` is true, right now.
    ///
    /// Listing `/proc/self/task` can skip a live thread when another thread exits during
    /// the listing (the kernel walks the thread list by position), which happens often when
    /// the whole suite runs under load: the list is read until two readings in a row agree.
    public static func count(where matches: (String) -> Bool) -> Int {
        var previous = ids()
        for _ in 0..<1000 {
            let current = ids()
            if current == previous { break }
            previous = current
        }
        return previous.filter { id in readSmallFile("/proc/self/task/\(id)/comm").map(matches) ?? false }.count
    }

    /// The ids of this process's threads, as one listing of `/proc/self/task` gives them.
    private static func ids() -> [String] {
        guard let directory = opendir("/proc/self/task") else { return [] }
        defer { closedir(directory) }
        // A record `readdir` returns is only as long as its name: reading it as a whole
        // `dirent` (or copying its 256-byte `d_name`) reads past the record, and past the end
        // of the directory buffer when the record is its last, which crashed the suite once.
        // The name is read through a pointer up to its terminating zero instead.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var ids: [String] = []
        while let entry = readdir(directory) {
            let name = String(
                cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            if name.first?.isNumber == true { ids.append(name) }
        }
        return ids.sorted()
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        var bytes = buffer[..<count]
        if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
