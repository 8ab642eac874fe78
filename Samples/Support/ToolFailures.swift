import ArgumentParser

/// How a sample tool reports trouble: one line on standard error, prefixed by its name.
public struct ToolMessages: Sendable {
    /// The tool's name, as it prefixes every line (`fpga-compress: ...`).
    public let tool: String

    public init(tool: String) { self.tool = tool }

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
            print(String(describing: error))
            throw ExitCode.failure
        }
    }
}
