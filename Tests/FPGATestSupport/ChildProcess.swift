import FPGATestSync
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// How a child process ended.
public enum ChildExit: Sendable, Hashable, CustomStringConvertible {
    /// It called exit with this status.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)

    /// The status a shell shows: the exit status, or 128 + the signal.
    public var code: Int32 {
        switch self {
        case .exited(let status): status
        case .signaled(let signal): 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let status): "exit status \(status)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// A child process of a test, run with swift-subprocess: spawning it, reading its output and
/// waiting for it never block a thread of the cooperative pool, and the child inherits no
/// descriptor but its standard input, output and error. Its output and error are drained
/// while it runs and kept. Every wait is bounded: a child that outlives the bound is killed
/// (SIGKILL) and the wait throws a ``ToolFailure`` naming it, with its standard error.
public final class ChildProcess: Sendable {
    /// The bound of a wait when the caller names none: generous, for a loaded machine; only
    /// a child that is stuck takes that long.
    public static let watchdog: Duration = .seconds(120)

    /// What its standard input gets.
    public enum Input: Sendable {
        /// These bytes, then the end of the input.
        case bytes([UInt8])
        /// Nothing until ``closeStandardInput()``: the pipe stays open, so the child sees
        /// its input end when the test closes it or the test process ends.
        case held
        /// These bytes, then the pipe held open as with ``held``.
        case heldAfter([UInt8])
    }

    /// The command line and process id, for failure messages.
    public let name: String
    public let pid: Int32
    private let shared: Shared

    private init(name: String, pid: Int32, shared: Shared) {
        self.name = name
        self.pid = pid
        self.shared = shared
    }

    /// Starts `executable` with `arguments`; `environment` changes the test process's
    /// environment (nil removes a variable).
    public static func start(
        _ executable: String, arguments: [String], environment: [String: String?] = [:], input: Input = .bytes([])
    ) async throws -> ChildProcess {
        _ = ignoreBrokenPipes
        var changes: [Environment.Key: String?] = [:]
        for (key, value) in environment { changes[Environment.Key(stringLiteral: key)] = value }
        let shared = Shared()
        let command = ([executable] + arguments).joined(separator: " ")
        Task {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments),
                    environment: .inherit.updating(changes), input: .inputWriter, output: .sequence,
                    error: .sequence
                ) { execution in
                    shared.started.fulfill(.success(execution.processIdentifier.value))
                    let writer = execution.standardInputWriter
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            switch input {
                            case .bytes(let bytes):
                                if !bytes.isEmpty { _ = try? await writer.write(bytes) }
                            case .held, .heldAfter:
                                if case .heldAfter(let bytes) = input, !bytes.isEmpty {
                                    _ = try? await writer.write(bytes)
                                }
                                // Fulfilled by the test, or when the drains end.
                                while await shared.inputClosed.value(within: .seconds(3600)) == nil {}
                            }
                            try? await writer.finish()
                        }
                        group.addTask {
                            await withTaskGroup(of: Void.self) { drains in
                                drains.addTask {
                                    do {
                                        for try await chunk in execution.standardOutput {
                                            shared.appendOutput(chunk.withUnsafeBytes { Array($0) })
                                        }
                                    } catch {}
                                    shared.endOutput()
                                }
                                drains.addTask {
                                    do {
                                        for try await chunk in execution.standardError {
                                            shared.appendError(chunk.withUnsafeBytes { Array($0) })
                                        }
                                    } catch {}
                                }
                            }
                            // Both ended: the child is gone (or closed both), so nothing
                            // will read what a held input would still send.
                            shared.inputClosed.fulfill(())
                        }
                    }
                    // From here on the child may be reaped and its id reused.
                    shared.alive.withLock { $0 = false }
                }
                let status: ChildExit =
                    switch result.terminationStatus {
                    case .exited(let code): .exited(code)
                    case .signaled(let signal): .signaled(signal)
                    }
                shared.status.fulfill(.success(status))
            } catch {
                shared.alive.withLock { $0 = false }
                shared.endOutput()
                let failure = ToolFailure("\(command): \(error)")
                shared.started.fulfill(.failure(failure))
                shared.status.fulfill(.failure(failure))
            }
        }
        guard let started = await shared.started.value(within: watchdog) else {
            throw ToolFailure("\(command) did not start within \(watchdog)")
        }
        let pid = try started.get()
        return ChildProcess(name: "\(command) (pid \(pid))", pid: pid, shared: shared)
    }

    /// A child nobody holds any more has nothing to wait for it: it is killed.
    deinit { kill() }

    /// Ignores SIGPIPE in the test process: a child that exits without reading all its
    /// input must fail the write, not end the tests.
    private static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    /// Sends `number` to the child, unless it has already been reaped.
    public func signal(_ number: Int32) {
        shared.alive.withLock { alive in
            if alive { _ = Glibc.kill(pid, number) }
        }
    }

    /// Kills the child (SIGKILL, after SIGCONT in case it is stopped) without waiting.
    public func kill() {
        signal(SIGCONT)
        signal(SIGKILL)
    }

    /// Whether the child still runs (it has not exited, nor become a zombie).
    public var isRunning: Bool {
        shared.alive.withLock { alive in
            guard alive else { return false }
            guard let stat = try? procStat() else { return false }
            // /proc/PID/stat: "pid (comm) S ...": the state follows the last ')'.
            guard let close = stat.lastIndex(of: ")") else { return false }
            let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
            return state != "Z" && state != "X"
        }
    }

    private func procStat() throws -> String {
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ToolFailure("no /proc/\(pid)/stat") }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
    }

    /// Closes the child's standard input (``Input/held``, ``Input/heldAfter(_:)``): it
    /// reads its end.
    public func closeStandardInput() { shared.inputClosed.fulfill(()) }

    /// What the child wrote on standard output so far.
    public var output: [UInt8] { shared.buffers.withLock { $0.output } }

    /// What the child wrote on standard error so far.
    public var errorText: String { String(decoding: shared.buffers.withLock { $0.error }, as: UTF8.self) }

    /// The first line of standard output, without its newline; nil when the output ended
    /// (the child exited) before one. A child that writes none within `bound` is killed.
    public func firstOutputLine(within bound: Duration = watchdog) async throws -> String? {
        guard let line = await shared.firstLine.value(within: bound) else {
            throw await killed(after: bound, because: "wrote no line on standard output")
        }
        return line
    }

    /// The second line of standard output, without its newline; nil when the output ended
    /// before one. A child that writes none within `bound` is killed.
    public func secondOutputLine(within bound: Duration = watchdog) async throws -> String? {
        guard let line = await shared.secondLine.value(within: bound) else {
            throw await killed(after: bound, because: "wrote no second line on standard output")
        }
        return line
    }

    /// Waits for the child to exit. A child still running after `bound` is killed, and
    /// this throws a failure naming it, with its standard error.
    public func exit(within bound: Duration = watchdog) async throws -> ChildExit {
        guard let status = await shared.status.value(within: bound) else {
            throw await killed(after: bound, because: "did not exit")
        }
        return try status.get()
    }

    /// Kills the stuck child, waits (bounded) for it to be reaped, and describes it.
    private func killed(after bound: Duration, because failure: String) async -> ToolFailure {
        kill()
        let reaped = await shared.status.value(within: stuckWaitLimit) != nil
        return ToolFailure(
            "\(name) \(failure) within \(bound): the watchdog killed it"
                + (reaped ? "" : " (and it was still not reaped \(stuckWaitLimit) later)")
                + ". Its standard error: \(errorText.isEmpty ? "(empty)" : errorText)")
    }

    /// What the task that runs the child shares with the test.
    private final class Shared: Sendable {
        struct Buffers {
            var output: [UInt8] = []
            var error: [UInt8] = []
        }
        let buffers = Mutex(Buffers())
        let started = Promise<Result<Int32, ToolFailure>>()
        let firstLine = Promise<String?>()
        let secondLine = Promise<String?>()
        let inputClosed = Promise<Void>()
        let status = Promise<Result<ChildExit, ToolFailure>>()
        /// True until the child may have been reaped: signalling its id hits it (or its zombie).
        let alive = Mutex(true)

        func appendOutput(_ bytes: [UInt8]) {
            let lines = buffers.withLock { buffers -> [String] in
                let start = buffers.output.count
                buffers.output += bytes
                // The first two lines, once the chunk just read completed one of them (each
                // promise keeps the first value it is given).
                var ends: [Int] = []
                for index in buffers.output.indices where buffers.output[index] == 0x0a {
                    ends.append(index)
                    if ends.count == 2 { break }
                }
                guard let last = ends.last, last >= start else { return [] }
                var lines: [String] = []
                var lineStart = 0
                for end in ends {
                    lines.append(String(decoding: buffers.output[lineStart..<end], as: UTF8.self))
                    lineStart = end + 1
                }
                return lines
            }
            if let first = lines.first { firstLine.fulfill(first) }
            if lines.count == 2 { secondLine.fulfill(lines[1]) }
        }

        func appendError(_ bytes: [UInt8]) { buffers.withLock { $0.error += bytes } }

        func endOutput() {
            firstLine.fulfill(nil)
            secondLine.fulfill(nil)
        }
    }
}

/// A value set once that tasks wait for, each for a bounded time.
final class Promise<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
        /// Waits whose bound passed before they were registered.
        var expired: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    /// Sets the value, unless it is already set; resumes every waiter.
    func fulfill(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, or nil if `bound` passes first.
    func value(within bound: Duration) async -> Value? {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task {
            do { try await Task.sleep(for: bound) } catch { return }
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value?? in
                if let value = state.value { return .some(value) }
                if state.expired.remove(id) != nil { return .some(nil) }
                state.waiters[id] = continuation
                return .none
            }
            if case .some(let value) = ready { continuation.resume(returning: value) }
        }
    }

    /// Resumes waiter `id` with nil, or marks it expired if it is not waiting yet.
    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            guard state.value == nil else { return nil }
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                state.expired.insert(id)
                return nil
            }
            return waiter
        }
        waiter?.resume(returning: nil)
    }
}

/// Waits until `condition` holds (``eventually(within:_:)``): for an event that shows only in
/// the file system or /proc. Throws a failure naming `event` if `bound` passes first.
public func waitUntil(
    _ event: String, within bound: Duration = ChildProcess.watchdog, _ condition: () throws -> Bool
) async throws {
    guard try await eventually(within: bound, condition) else { throw ToolFailure("no \(event) within \(bound)") }
}
