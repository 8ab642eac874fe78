import ArgumentParser

/// How a sample tool reports trouble: one line on standard error, prefixed by its name.
public struct ToolMessages: Sendable {
    /// The tool's name, as it prefixes every line (`fpga-compress: ...`).
    public let tool: String
    /// What the tool adds to a library error's message, such as the flag that gets past
    /// it (`use --force to overwrite`); the library's messages name no flags.
    public let hint: @Sendable (any Error) -> String?

    public init(tool: String, hint: @escaping @Sendable (any Error) -> String? = { _ in nil }) {
        self.tool = tool
        self.hint = hint
    }

    /// The message for `error`: its description, then the tool's hint in parentheses.
    public func message(for error: any Error) -> String {
        let message = String(describing: error)
        guard let hint = hint(error) else { return message }
        return "\(message) (\(hint))"
    }

    /// Prints `tool: message` on standard error.
    public func print(_ message: String) {
        writeStandardError("\(tool): \(message)\n")
    }

    /// Runs a tool's work and turns any failure into one line and an exit status: 130
    /// after an interruption (which leaves no output), 1 for every other error. An
    /// `ExitCode` the work throws passes through.
    public func run(_ work: () async throws -> Void) async throws {
        do {
            try await work()
        } catch let exit as ExitCode {
            throw exit
        } catch is CancellationError {
            print("interrupted; no output written")
            throw ExitCode(130)
        } catch {
            print(message(for: error))
            throw ExitCode.failure
        }
    }
}
