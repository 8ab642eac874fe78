import FPGAExecution
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A service manager's notification socket, as systemd makes for a `Type=notify` unit: an
/// AF_UNIX datagram socket bound to a path (or an abstract name), whose ``address`` goes
/// to the service in `NOTIFY_SOCKET`.
public final class NotifySocket: Sendable {
    /// `NOTIFY_SOCKET`'s value: the path, or `@name` for an abstract name.
    public let address: String
    private let descriptor: Int32

    /// Binds a socket at `path`, or, with `abstract`, at the abstract name `path`.
    public init(path: String, abstract: Bool = false) throws {
        var bytes = Array(path.utf8)
        if abstract { bytes.insert(0, at: 0) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        guard bytes.count < MemoryLayout.size(ofValue: socketAddress.sun_path) else {
            throw ToolFailure("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ToolFailure("socket: \(String(cString: strerror(errno)))") }
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ToolFailure("bind \(path): \(reason)")
        }
        self.descriptor = descriptor
        address = abstract ? "@\(path)" : path
    }

    deinit { close(descriptor) }

    /// The next datagram's text, or nil if none comes within `bound`. The wait runs on a
    /// thread of its own (poll with the bound as timeout), never on the cooperative pool.
    public func next(within bound: Duration = ChildProcess.watchdog) async -> String? {
        let milliseconds = Int32(clamping: bound.components.seconds * 1000 + 999)
        return await withCheckedContinuation { continuation in
            startDedicatedThread(name: "notify-socket") {
                var entry = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
                var ready: Int32
                repeat { ready = poll(&entry, 1, milliseconds) } while ready < 0 && errno == EINTR
                guard ready == 1 else { return continuation.resume(returning: nil) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
                continuation.resume(returning: count < 0 ? nil : String(decoding: buffer.prefix(count), as: UTF8.self))
            }
        }
    }

    /// Waits for datagrams until one has the line `line` (such as `READY=1`) and returns
    /// that datagram; throws a failure naming the line if `bound` passes first.
    public func message(with line: String, within bound: Duration = ChildProcess.watchdog) async throws -> String {
        let deadline = ContinuousClock.now + bound
        while case let left = deadline - ContinuousClock.now, left > .zero {
            guard let message = await next(within: left) else { break }
            if message.split(separator: "\n").contains(Substring(line)) { return message }
        }
        throw ToolFailure("no \(line) on \(address) within \(bound)")
    }
}
