#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Tells a service manager (systemd's `Type=notify`) how the service is doing: the
/// `sd_notify` datagram protocol, which systemd documents as stable, without libsystemd.
///
/// The manager passes an address in `NOTIFY_SOCKET`: a file system path, or a name in
/// Linux's abstract namespace written with a leading `@`. Each message is one datagram of
/// newline-separated `KEY=VALUE` lines (`READY=1`, `STATUS=...`, `STOPPING=1`), sent on a
/// nonblocking socket: sending never waits, and a manager that is not reading loses the
/// message rather than stopping the service. Without `NOTIFY_SOCKET`, nothing is sent.
public struct ServiceNotification: Sendable {
    /// The manager's address as `NOTIFY_SOCKET` gives it.
    public let address: String

    /// The notifier for `NOTIFY_SOCKET`, or nil when it is not set (or empty).
    public static func fromEnvironment() -> ServiceNotification? {
        guard let value = getenv("NOTIFY_SOCKET") else { return nil }
        let address = String(cString: value)
        return address.isEmpty ? nil : ServiceNotification(address: address)
    }

    public init(address: String) { self.address = address }

    /// The service is up: `READY=1`, with a status line and our process id (the manager
    /// then knows the main process even when it did not start it directly).
    public func ready(status: String) throws(ServiceNotificationError) {
        try send(["READY=1", "STATUS=\(status)", "MAINPID=\(getpid())"])
    }

    /// The service has begun to shut down: `STOPPING=1`, with a status line.
    public func stopping(status: String) throws(ServiceNotificationError) {
        try send(["STOPPING=1", "STATUS=\(status)"])
    }

    /// Sends `lines` (`KEY=VALUE`, no newlines inside) as one datagram.
    public func send(_ lines: [String]) throws(ServiceNotificationError) {
        var path = Array(address.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        guard path.first == UInt8(ascii: "/") || abstract else {
            throw ServiceNotificationError(address: address, reason: "not an absolute path or @name")
        }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        // A path needs room for its terminating zero; an abstract name has none.
        guard path.count < capacity || (abstract && path.count <= capacity) else {
            throw ServiceNotificationError(address: address, reason: "address too long")
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { bytes in
            bytes.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1))

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ServiceNotificationError(address: address, errno: errno) }
        defer { close(descriptor) }
        var message = Array(lines.joined(separator: "\n").utf8)
        message.append(UInt8(ascii: "\n"))
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    sendto(
                        descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL),
                        generic, length)
                }
            }
        }
        guard sent == message.count else { throw ServiceNotificationError(address: address, errno: errno) }
    }
}

/// Why a notification could not be sent to the service manager.
public struct ServiceNotificationError: Error, CustomStringConvertible, Sendable {
    public let address: String
    public let reason: String

    init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }

    init(address: String, errno code: Int32) {
        self.init(address: address, reason: String(cString: strerror(code)))
    }

    public var description: String { "cannot notify the service manager at NOTIFY_SOCKET=\(address): \(reason)" }
}
