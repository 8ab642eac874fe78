/// The versioned, mutually authenticated opening of a connection (see the DocsSite's
/// wire protocol article): HELLO, CHALLENGE, AUTH, then WELCOME or ERROR.
///
/// The token never crosses the wire: each side proves it knows the token with an
/// HMAC-SHA256 over both sides' fresh nonces, compared in constant time.
public enum Handshake {
    /// The client side. Returns the worker's WELCOME.
    public static func client(
        _ connection: TCPConnection, token: AuthToken?, name: String, timeout: Duration = .seconds(10),
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> Welcome {
        try await withDeadline(timeout, "handshake with \(connection.peer)", clock: clock) {
            let clientNonce = HandshakeProof.nonce()
            try await connection.send(
                .hello(Hello(protocolVersion: WireProtocol.version, clientNonce: clientNonce, clientName: name)))
            let challenge: Challenge
            switch try await connection.receive().decodeMessage() {
            case .challenge(let received): challenge = received
            case .error(let error): throw WireError.remote(code: error.code, message: error.message)
            case let other: throw WireError.unexpectedMessage(other.type)
            }
            guard challenge.protocolVersion == WireProtocol.version else {
                throw WireError.unsupportedVersion(challenge.protocolVersion)
            }
            var proof = [UInt8](repeating: 0, count: 32)
            switch (token, challenge.authRequired) {
            case (let token?, true):
                let expected = HandshakeProof.worker(
                    token: token, clientNonce: clientNonce, workerNonce: challenge.workerNonce)
                guard HandshakeProof.verify(challenge.workerProof, expected: expected) else {
                    throw WireError.authenticationFailed("the worker does not know the token")
                }
                proof = HandshakeProof.client(
                    token: token, workerNonce: challenge.workerNonce, clientNonce: clientNonce)
            case (.some, false):
                throw WireError.authenticationFailed(
                    "the worker does not authenticate (it was started without a token)")
            case (nil, true):
                throw WireError.tokenRequired
            case (nil, false):
                break
            }
            try await connection.send(.auth(Auth(clientProof: proof)))
            switch try await connection.receive().decodeMessage() {
            case .welcome(let welcome):
                connection.markHandshakeComplete()
                return welcome
            case .error(let error): throw WireError.remote(code: error.code, message: error.message)
            case let other: throw WireError.unexpectedMessage(other.type)
            }
        }
    }

    /// The worker side: answers a client's HELLO and AUTH; on success calls
    /// `authenticated` (the client's last handshake frame is in) and sends `welcome`.
    /// On any failure sends ERROR, closes the connection and throws.
    public static func worker(
        _ connection: TCPConnection, token: AuthToken?, welcome: Welcome, timeout: Duration = .seconds(5),
        clock: any Clock<Duration> = ContinuousClock(), authenticated: @escaping @Sendable () -> Void = {}
    ) async throws {
        do {
            try await withDeadline(timeout, "handshake with \(connection.peer)", clock: clock) {
                let hello: Hello
                switch try await connection.receive().decodeMessage() {
                case .hello(let received): hello = received
                case let other: throw WireError.unexpectedMessage(other.type)
                }
                guard hello.protocolVersion == WireProtocol.version else {
                    throw WireError.unsupportedVersion(hello.protocolVersion)
                }
                let workerNonce = HandshakeProof.nonce()
                let proof =
                    token.map {
                        HandshakeProof.worker(token: $0, clientNonce: hello.clientNonce, workerNonce: workerNonce)
                    } ?? [UInt8](repeating: 0, count: 32)
                try await connection.send(
                    .challenge(
                        Challenge(
                            protocolVersion: WireProtocol.version, workerNonce: workerNonce,
                            authRequired: token != nil, workerProof: proof)))
                let auth: Auth
                switch try await connection.receive().decodeMessage() {
                case .auth(let received): auth = received
                case let other: throw WireError.unexpectedMessage(other.type)
                }
                if let token {
                    let expected = HandshakeProof.client(
                        token: token, workerNonce: workerNonce, clientNonce: hello.clientNonce)
                    guard HandshakeProof.verify(auth.clientProof, expected: expected) else {
                        throw WireError.authenticationFailed("wrong token")
                    }
                }
                // The client may send RUN frames as soon as it has the WELCOME.
                connection.markHandshakeComplete()
                authenticated()
                try await connection.send(.welcome(welcome))
            }
        } catch {
            let code: WireErrorCode
            switch error {
            case let wire as WireError: code = wire.code
            case TransportError.timedOut: code = .timeout
            default: code = .malformedFrame
            }
            connection.close(after: .error(code: code, message: String(describing: error)), reason: "handshake failed")
            throw error
        }
    }
}

/// Runs `body`, throwing ``TransportError/timedOut(_:)`` if it takes longer than `timeout`
/// on `clock`. The deadline is fixed when the call begins.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, _ what: String, clock: any Clock<Duration> = ContinuousClock(),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let timeline = Timeline(clock: clock)
    return try await withDeadline(at: timeline.now + timeout, on: timeline, what, body)
}

/// Runs `body`, throwing ``TransportError/timedOut(_:)`` if `timeline` reaches `deadline`
/// first: one deadline shared by several waits, or fixed before the wait starts.
public func withDeadline<T: Sendable>(
    at deadline: Duration, on timeline: Timeline, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await timeline.sleep(until: deadline)
            throw TransportError.timedOut(what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
