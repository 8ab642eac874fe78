extension HTTPProbe {
    /// GETs `url` until `accept` takes a response (a refused connection counts as a response
    /// not taken), and returns that response. Throws a ``ToolFailure`` naming `event`, with
    /// the last response or error, if `bound` passes first.
    public static func poll(
        _ url: String, for event: String, within bound: Duration = ChildProcess.watchdog,
        until accept: (Response) throws -> Bool
    ) async throws -> Response {
        let deadline = ContinuousClock.now + bound
        var last = "nothing"
        while true {
            do {
                let response = try await request("GET", url)
                if try accept(response) { return response }
                last = "status \(response.status): \(response.body.prefix(400))"
            } catch let failure as ToolFailure {
                last = failure.description
            }
            guard ContinuousClock.now < deadline else {
                throw ToolFailure("no \(event) at \(url) within \(bound); the last answer: \(last)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
