internal import CLibUV
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The state of one connection, split by who may touch it.
///
/// `@unchecked Sendable`: the fields marked "loop thread" are only touched by closures
/// running on the connection's event loop (libuv callbacks and `loop.execute` work);
/// everything callers on other threads touch is in `shared`, behind its mutex.
final class ConnectionCore: @unchecked Sendable {
    private let loop: EventLoop
    private let limits: ConnectionLimits

    // Loop thread.
    private let descriptor: Int32
    private var poll: UnsafeMutablePointer<uv_poll_t>?
    private var watched: Int32 = 0
    /// Cuts the received bytes into frames; the socket is read straight into its storage.
    private var decoder: FrameDecoder
    /// Whether `decoder` has the full limits of a completed handshake.
    private var decoderHasFullLimits = false
    private var writing: [PendingWrite] = []
    private var connectWaiter: CheckedContinuation<Void, any Error>?
    private var connectEndpoint: Endpoint?
    private var loopClosed = false

    // Any thread.
    private struct Shared {
        var inbox: [Frame] = []
        var inboxHead = 0
        var inboxBytes = 0
        var receivers: [(id: UInt64, continuation: CheckedContinuation<Frame, any Error>)] = []
        var outbox: [PendingWrite] = []
        var queuedSendBytes = 0
        var sendWaiters: [(id: UInt64, bytes: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
        var closeReason: TransportError?
        var readPaused = false
        var lastFrame = ContinuousClock.now
        var handshakeComplete = false
    }
    private let shared = Mutex(Shared())

    init(descriptor: Int32, loop: EventLoop, limits: ConnectionLimits) {
        self.descriptor = descriptor
        self.loop = loop
        self.limits = limits
        self.decoder = FrameDecoder(limits: limits.wireLimits(handshakeComplete: false))
    }

    var isClosed: Bool { shared.withLock { $0.closeReason != nil } }

    /// Raises the frame limit from the pre-handshake one to the full one.
    func markHandshakeComplete() { shared.withLock { $0.handshakeComplete = true } }
    var lastFrameReceived: ContinuousClock.Instant { shared.withLock { $0.lastFrame } }

    // MARK: Starting

    /// Starts watching an accepted socket.
    func start() {
        loop.execute { [self] context in self.attach(context, events: Int32(UV_READABLE.rawValue)) }
    }

    func connect(to address: ResolvedAddress, endpoint: Endpoint) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                loop.execute { [self] context in
                    let status = address.withSockAddr { Glibc.connect(self.descriptor, $0, $1) }
                    if status == 0 {
                        self.attach(context, events: Int32(UV_READABLE.rawValue))
                        continuation.resume()
                        return
                    }
                    let code = errno
                    guard code == EINPROGRESS else {
                        self.closeOnLoop(.closed("connect failed"))
                        continuation.resume(throwing: Self.connectError(code, endpoint))
                        return
                    }
                    self.connectWaiter = continuation
                    self.connectEndpoint = endpoint
                    self.attach(context, events: Int32(UV_WRITABLE.rawValue))
                }
            }
        } onCancel: {
            close(reason: .closed("connect cancelled"))
        }
    }

    private static func connectError(_ code: Int32, _ endpoint: Endpoint) -> TransportError {
        code == ECONNREFUSED
            ? .connectionRefused(endpoint.description)
            : .connectFailed(endpoint.description, reason: String(cString: strerror(code)))
    }

    /// Loop thread: creates the poll handle.
    private func attach(_ context: LoopContext, events: Int32) {
        guard !loopClosed else { return }
        let handle = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
        uv_poll_init_socket(context.loop, handle, descriptor)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        poll = handle
        watch(events)
    }

    /// Loop thread: changes the events watched.
    private func watch(_ events: Int32) {
        guard let poll, !loopClosed, events != watched else { return }
        watched = events
        if events == 0 {
            uv_poll_stop(poll)
        } else {
            uv_poll_start(poll, events) { handle, status, events in
                let core = Unmanaged<ConnectionCore>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
                core.ready(status: status, events: events)
            }
        }
    }

    /// Loop thread: the socket is readable or writable, or failed.
    private func ready(status: Int32, events: Int32) {
        if let waiter = connectWaiter {
            connectWaiter = nil
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            if status < 0 || error != 0 {
                let code = error != 0 ? error : -status
                closeOnLoop(.closed("connect failed"))
                waiter.resume(throwing: Self.connectError(code, connectEndpoint ?? Endpoint(host: "peer", port: 0)))
                return
            }
            waiter.resume()
            updateWatch()
            return
        }
        if status < 0 {
            // libuv reports a socket error (a reset, say) as UV_EBADF. Frames that arrived
            // before it, such as the peer's ERROR explaining why it closed, are still
            // readable: deliver them first, then close with the socket's own error.
            readAvailable()
            guard !loopClosed else { return }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            closeOnLoop(.closed(error != 0 ? String(cString: strerror(error)) : String(cString: uv_strerror(status))))
            return
        }
        if events & Int32(UV_WRITABLE.rawValue) != 0 { flushWrites() }
        if events & Int32(UV_READABLE.rawValue) != 0 { readAvailable() }
    }

    /// Loop thread: watches for reading unless paused, for writing while writes wait.
    private func updateWatch() {
        let paused = shared.withLock { $0.readPaused }
        var events: Int32 = paused ? 0 : Int32(UV_READABLE.rawValue)
        if !writing.isEmpty { events |= Int32(UV_WRITABLE.rawValue) }
        watch(events)
    }

    // MARK: Reading

    /// Loop thread: reads what the socket has, straight into the frame the decoder is filling.
    private func readAvailable() {
        var budget = 8 << 20
        while budget > 0, !loopClosed, !shared.withLock({ $0.readPaused }) {
            let descriptor = self.descriptor
            var code: Int32 = 0
            let got = decoder.read { region in
                let got = recv(descriptor, region.baseAddress, region.count, 0)
                if got < 0 { code = errno }
                return got
            }
            if got == 0 {
                let midFrame = decoder.bufferedByteCount > 0
                closeOnLoop(
                    .closed(
                        midFrame ? "peer closed the connection in the middle of a frame" : "peer closed the connection")
                )
                return
            }
            if got < 0 {
                if code == EAGAIN || code == EWOULDBLOCK { return }
                if code == EINTR { continue }
                closeOnLoop(.closed(String(cString: strerror(code))))
                return
            }
            budget -= got
            // After the bytes are in: a header that arrives after the handshake completed is
            // checked against the full limits.
            raiseLimitsIfHandshakeComplete()
            do {
                if let frame = try decoder.nextFrame() { deliver(frame) }
            } catch {
                let reason = String(describing: error)
                closeOnLoop(
                    .protocolViolation(reason), farewell: OutgoingFrame.error(code: error.code, message: reason))
                return
            }
        }
    }

    private func raiseLimitsIfHandshakeComplete() {
        guard !decoderHasFullLimits, shared.withLock({ $0.handshakeComplete }) else { return }
        decoder.limits = limits.wireLimits(handshakeComplete: true)
        decoderHasFullLimits = true
    }

    private func deliver(_ frame: Frame) {
        let size = frame.body.count + FrameHeader.size
        let receiver: CheckedContinuation<Frame, any Error>? = shared.withLock { state in
            state.lastFrame = .now
            if !state.receivers.isEmpty {
                return state.receivers.removeFirst().continuation
            }
            state.inbox.append(frame)
            state.inboxBytes += size
            if state.inboxBytes > limits.maxBufferedReceiveBytes { state.readPaused = true }
            return nil
        }
        if let receiver {
            receiver.resume(returning: frame)
        } else {
            updateWatch()
        }
    }

    func receive() async throws -> Frame {
        let id = shared.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Frame, any Error>) in
                enum Outcome {
                    case frame(Frame, resume: Bool)
                    case failure(any Error)
                    case wait
                }
                let outcome: Outcome = shared.withLock { state in
                    if state.inboxHead < state.inbox.count {
                        let frame = state.inbox[state.inboxHead]
                        state.inboxHead += 1
                        if state.inboxHead == state.inbox.count {
                            state.inbox.removeAll(keepingCapacity: true)
                            state.inboxHead = 0
                        }
                        state.inboxBytes -= frame.body.count + FrameHeader.size
                        var resume = false
                        if state.readPaused && state.inboxBytes <= limits.maxBufferedReceiveBytes / 2 {
                            state.readPaused = false
                            resume = true
                        }
                        return .frame(frame, resume: resume)
                    }
                    if let reason = state.closeReason { return .failure(reason) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.receivers.append((id, continuation))
                    return .wait
                }
                switch outcome {
                case .frame(let frame, let resume):
                    if resume {
                        loop.execute { [self] _ in
                            self.updateWatch()
                            self.readAvailable()
                        }
                    }
                    continuation.resume(returning: frame)
                case .failure(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = shared.withLock { state in
                state.receivers.firstIndex { $0.id == id }.map { state.receivers.remove(at: $0).continuation }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    // MARK: Writing

    func send(_ frame: OutgoingFrame) async throws {
        let bytes = frame.head.count + frame.payload.count
        let id = shared.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: (any Error)?? = shared.withLock { state in
                    if let reason = state.closeReason { return .some(reason) }
                    let write = PendingWrite(head: frame.head, payload: frame.payload)
                    state.outbox.append(write)
                    state.queuedSendBytes += bytes
                    if state.queuedSendBytes <= limits.maxQueuedSendBytes { return .some(nil) }
                    state.sendWaiters.append((id, bytes, continuation))
                    return .none
                }
                loop.execute { [self] _ in self.takeOutbox() }
                switch outcome {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            // The frame stays queued (it may be half written); only the wait ends.
            let waiter = shared.withLock { state in
                state.sendWaiters.firstIndex { $0.id == id }.map { state.sendWaiters.remove(at: $0).continuation }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Loop thread: moves queued frames to the socket's write list and writes.
    private func takeOutbox() {
        let queued = shared.withLock { state in
            defer { state.outbox = [] }
            return state.outbox
        }
        guard !loopClosed else { return }
        writing.append(contentsOf: queued)
        flushWrites()
    }

    /// Loop thread: writes as much as the socket takes.
    private func flushWrites() {
        while !writing.isEmpty, !loopClosed {
            let result = writing[0].write(to: descriptor)
            if result < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                closeOnLoop(.closed(String(cString: strerror(code))))
                return
            }
            if writing[0].isComplete { finishWrite(writing.removeFirst()) }
        }
        updateWatch()
    }

    private func finishWrite(_ write: PendingWrite) {
        let released: [CheckedContinuation<Void, any Error>] = shared.withLock { state in
            state.queuedSendBytes -= write.totalBytes
            var released: [CheckedContinuation<Void, any Error>] = []
            while let first = state.sendWaiters.first, state.queuedSendBytes <= limits.maxQueuedSendBytes {
                released.append(first.continuation)
                state.sendWaiters.removeFirst()
            }
            return released
        }
        for waiter in released { waiter.resume() }
    }

    // MARK: Closing

    func close(reason: TransportError) {
        markClosing(reason)
        loop.execute { [self] _ in self.closeOnLoop(reason) }
    }

    func close(after frame: OutgoingFrame, reason: TransportError) {
        markClosing(reason)
        loop.execute { [self] _ in self.closeOnLoop(reason, farewell: frame) }
    }

    /// Records the reason at once, so sends and receives made from now on fail even
    /// before the loop has closed the socket. Frames already queued still go out.
    private func markClosing(_ reason: TransportError) {
        shared.withLock { state in
            if state.closeReason == nil { state.closeReason = reason }
        }
    }

    /// Loop thread: stops watching, closes the socket and fails everyone waiting.
    private func closeOnLoop(_ reason: TransportError, farewell: OutgoingFrame? = nil) {
        guard !loopClosed else { return }
        // Best effort: whatever is queued, then the farewell, if the socket takes it now.
        takeOutboxWithoutFlush()
        if let farewell { writing.append(PendingWrite(head: farewell.head, payload: farewell.payload)) }
        // Stop at the first frame the socket does not take whole: writing a later one
        // after it would interleave their bytes.
        flushing: for index in writing.indices {
            while !writing[index].isComplete {
                if writing[index].write(to: descriptor) <= 0 { break flushing }
            }
        }
        if farewell != nil { lingerForFarewell() }
        loopClosed = true
        writing = []
        if let waiter = connectWaiter {
            connectWaiter = nil
            waiter.resume(throwing: reason)
        }
        if let poll {
            uv_poll_stop(poll)
            uv_close(UnsafeMutableRawPointer(poll).assumingMemoryBound(to: uv_handle_t.self)) { handle in
                let core = Unmanaged<ConnectionCore>.fromOpaque(handle!.pointee.data).takeRetainedValue()
                Glibc.close(core.descriptor)
                handle!.deallocate()
            }
            self.poll = nil
        } else {
            Glibc.close(descriptor)
        }
        let (receivers, senders) = shared.withLock { state in
            if state.closeReason == nil { state.closeReason = reason }
            defer {
                state.receivers = []
                state.sendWaiters = []
                state.outbox = []
            }
            return (state.receivers.map(\.continuation), state.sendWaiters.map(\.continuation))
        }
        let failure = shared.withLock { $0.closeReason! }
        for receiver in receivers { receiver.resume(throwing: failure) }
        for sender in senders { sender.resume(throwing: failure) }
    }

    /// Loop thread: after a farewell (an ERROR saying why we close), sends FIN and discards
    /// input already received. Closing a socket with unread input makes the kernel send a
    /// reset instead of FIN, and a reset can overtake the farewell on its way to the peer.
    /// At most 4 MiB is discarded; past that, the peer gets its reset.
    private func lingerForFarewell() {
        shutdown(descriptor, Int32(SHUT_WR))
        var discarded = 0
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        while discarded < 4 << 20 {
            let got = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if got > 0 {
                discarded += got
            } else if got < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    private func takeOutboxWithoutFlush() {
        let queued = shared.withLock { state in
            defer { state.outbox = [] }
            return state.outbox
        }
        writing.append(contentsOf: queued)
    }
}

/// A frame being written: its header-and-prefix bytes, its payload, and how far it got.
struct PendingWrite: @unchecked Sendable {
    // `@unchecked Sendable`: arrays are values; the struct moves between threads whole.
    let head: [UInt8]
    let payload: ArraySlice<UInt8>
    private var offset = 0

    init(head: [UInt8], payload: ArraySlice<UInt8>) {
        self.head = head
        self.payload = payload
    }

    var totalBytes: Int { head.count + payload.count }
    var isComplete: Bool { offset == totalBytes }

    /// One `sendmsg` of what is left; returns bytes written or -1 with errno set.
    mutating func write(to descriptor: Int32) -> Int {
        let start = offset
        let result = head.withUnsafeBytes { headBytes in
            payload.withUnsafeBytes { payloadBytes -> Int in
                var vectors: [iovec] = []
                if start < headBytes.count {
                    vectors.append(
                        iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: headBytes.baseAddress! + start),
                            iov_len: headBytes.count - start))
                }
                let payloadStart = max(0, start - headBytes.count)
                if payloadBytes.count > payloadStart {
                    vectors.append(
                        iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: payloadBytes.baseAddress! + payloadStart),
                            iov_len: payloadBytes.count - payloadStart))
                }
                if vectors.isEmpty { return 0 }
                return vectors.withUnsafeMutableBufferPointer { vectorBuffer in
                    var message = msghdr()
                    message.msg_iov = vectorBuffer.baseAddress
                    message.msg_iovlen = vectorBuffer.count
                    return sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL))
                }
            }
        }
        if result > 0 { offset += result }
        return result
    }
}
