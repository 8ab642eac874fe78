import ArgumentParser
import FPGACluster
import FPGADevice
import FPGAMetricsServer
import FPGATransport

/// How `fpga-worker serve` ends, as sysexits.h numbers it, so that a service manager (or a
/// script) can tell a restart that may help from one that cannot: systemd's
/// `RestartPreventExitStatus=64 66 78` stops restarting on those.
enum ServeExitStatus: Int32, CaseIterable, Sendable {
    /// Stopped by SIGTERM, SIGINT or the end of standard input, after draining.
    case stopped = 0
    /// Anything not named below.
    case failure = 1
    /// EX_USAGE: the command line is wrong (a bad flag or value).
    case usage = 64
    /// EX_NOINPUT: a file it must read (token, xclbin, model) is missing or unreadable.
    case noInput = 66
    /// EX_UNAVAILABLE: a device cannot be opened (no such card, XRT failed).
    case unavailable = 69
    /// EX_TEMPFAIL: the listen or metrics address is unavailable (in use, not an address of
    /// this host); a restart may help.
    case temporaryFailure = 75
    /// EX_CONFIG: the configuration is wrong (a malformed token, an xclbin that does not
    /// parse, a non-loopback address without a token, --xclbin without XRT devices).
    case configuration = 78
}

/// A failure of `fpga-worker serve` with the exit status it ends with; its message is the
/// cause's.
struct ServeFailure: Error, CustomStringConvertible {
    let status: ServeExitStatus
    let cause: any Error

    init(_ status: ServeExitStatus, _ cause: any Error) {
        self.status = status
        self.cause = cause
    }

    init(_ status: ServeExitStatus, _ message: String) {
        self.init(status, WorkerCLIError(message))
    }

    var description: String { "\(cause)" }

    /// The exit status of an error that was not mapped where it arose: a validation error
    /// is bad usage like ArgumentParser's own, anything else is 1.
    static func status(of error: any Error) -> ServeExitStatus {
        switch error {
        case let failure as ServeFailure: failure.status
        case is ValidationError: .usage
        default: .failure
        }
    }

    /// Runs `body`, giving what it throws exit status `status`.
    static func mapping<Value>(_ status: ServeExitStatus, _ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let failure as ServeFailure {
            throw failure
        } catch {
            throw ServeFailure(status, error)
        }
    }

    /// The exit status of a token that could not be loaded: a file that is not there or
    /// cannot be read, or one whose content is not a token.
    static func status(of error: AuthTokenError) -> ServeExitStatus {
        switch error {
        case .fileNotFound, .unreadable: .noInput
        case .empty, .tooShort, .tooLong: .configuration
        }
    }

    /// The exit status of a file job's error (reading the model): the file's trouble.
    static func status(of error: FileJobError) -> ServeExitStatus {
        switch error {
        case .inputNotFound, .inputIsDirectory, .inputUnreadable, .inputShrank: .noInput
        case .outputExists, .outputUnwritable, .sameFile: .failure
        }
    }
}
