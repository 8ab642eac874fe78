import SampleSupport

extension CompressInvocation {
    /// Reads the plain gzip forms of the command line without swift-argument-parser: the
    /// flags `-d`, `-c`, `-f`, `-k`, `-q` (alone or together, as in `-dc`) and their long
    /// names, `-o OUTPUT`, `--local N`, `--chunk-size SIZE` and one input, each at most once,
    /// in any order, when ``validate()`` accepts them.
    ///
    /// Nil for anything else, which ``FPGACompress`` then parses (and reports) as usual:
    /// help, version, completions, every other option, `--`, `--name=value`, a value that
    /// starts with `-`, a repeated flag or option, a second input or none, and values
    /// ``validate()`` rejects. Where it gives an invocation, swift-argument-parser gives the
    /// same one (the command's tests compare the two over thousands of command lines).
    init?(plainArguments arguments: [String]) {
        var invocation = CompressInvocation(input: "")
        var input: String?
        var keep = false
        var index = arguments.startIndex
        // The value after an option, if there is one and it cannot be read as a flag.
        func value() -> String? {
            guard index < arguments.endIndex, !arguments[index].hasPrefix("-") else { return nil }
            defer { index += 1 }
            return arguments[index]
        }
        // Sets `flag`, unless it is already set.
        func set(_ flag: inout Bool) -> Bool {
            guard !flag else { return false }
            flag = true
            return true
        }
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "-" || !argument.hasPrefix("-") {
                guard input == nil else { return nil }
                input = argument
                continue
            }
            switch argument {
            case "--decompress": guard set(&invocation.decompress) else { return nil }
            case "--stdout": guard set(&invocation.toStandardOutput) else { return nil }
            case "--force": guard set(&invocation.force) else { return nil }
            case "--keep": guard set(&keep) else { return nil }
            case "--quiet": guard set(&invocation.quiet) else { return nil }
            case "-o":
                guard invocation.output == nil, let output = value() else { return nil }
                invocation.output = output
            case "--local":
                guard invocation.devices.localDevices == nil, let count = value().flatMap({ Int($0) }) else {
                    return nil
                }
                invocation.devices.localDevices = count
            case "--chunk-size":
                guard invocation.chunkSize == nil, let size = value() else { return nil }
                invocation.chunkSize = size
            default:
                // A cluster of short flags, `-dcq`; a long name not above is not plain.
                guard !argument.hasPrefix("--") else { return nil }
                for letter in argument.utf8.dropFirst() {
                    let isNew =
                        switch letter {
                        case UInt8(ascii: "d"): set(&invocation.decompress)
                        case UInt8(ascii: "c"): set(&invocation.toStandardOutput)
                        case UInt8(ascii: "f"): set(&invocation.force)
                        case UInt8(ascii: "k"): set(&keep)
                        case UInt8(ascii: "q"): set(&invocation.quiet)
                        default: false
                        }
                    guard isNew else { return nil }
                }
            }
        }
        guard let input else { return nil }
        invocation.input = input
        guard (try? invocation.validate()) != nil else { return nil }
        self = invocation
    }
}
