/// HTTP requests from tests, through real clients: `curl` for well-formed requests, Python's
/// sockets for bytes that are not HTTP. Every request is bounded (`--max-time`, a socket
/// timeout, and ``ChildProcess``'s watchdog).
public enum HTTPProbe {
    /// A response: its status code, body, and `Content-Type`.
    public struct Response: Sendable {
        public let status: Int
        public let body: String
        public let contentType: String
    }

    /// `curl -X method url`.
    public static func request(_ method: String = "GET", _ url: String) async throws -> Response {
        let result = try await ExternalTools.run(
            [
                "curl", "--silent", "--show-error", "--max-time", "60", "--request", method, "--output", "-",
                "--write-out", "\n%{http_code} %{content_type}", url,
            ])
        guard result.status == 0 else {
            throw ToolFailure("curl \(method) \(url) exited \(result.status): \(result.error)")
        }
        let text = String(decoding: result.output, as: UTF8.self)
        guard let split = text.lastIndex(of: "\n") else { throw ToolFailure("curl wrote no status: \(text)") }
        let trailer = text[text.index(after: split)...].split(separator: " ", maxSplits: 1)
        guard let status = trailer.first.flatMap({ Int($0) }) else {
            throw ToolFailure("curl wrote no status: \(text)")
        }
        return Response(
            status: status, body: String(text[..<split]), contentType: trailer.count > 1 ? String(trailer[1]) : "")
    }

    /// Sends `bytes` to `host:port` over TCP and returns the status line of the answer
    /// (empty when the server closed without one).
    public static func rawStatusLine(host: String, port: Int, sending bytes: String) async throws -> String {
        let script = """
            import socket, sys
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
            s.sendall(sys.argv[3].encode())
            data = b""
            while b"\\r\\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            sys.stdout.write(data.split(b"\\r\\n")[0].decode("latin-1"))
            """
        let result = try await ExternalTools.run(["python3", "-c", script, host, String(port), bytes])
        guard result.status == 0 else {
            throw ToolFailure("python3 raw request exited \(result.status): \(result.error)")
        }
        return String(decoding: result.output, as: UTF8.self)
    }
}
