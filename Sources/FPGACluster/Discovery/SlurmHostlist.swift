/// Slurm's compressed host lists, as in `SLURM_JOB_NODELIST`: `node[01-04,07],gpu-a[1-2]b[5-6]`,
/// expanded as `scontrol show hostnames` expands them.
///
/// - Entries are separated by commas (outside brackets) or spaces; empty entries are skipped.
/// - A bracket holds numbers and ranges, `[1-3,7]`; a range keeps the width its first number is
///   written with (`[08-11]` gives `08 09 10 11`; `[1-010]` gives `1` to `10`).
/// - An entry may have several brackets, and text between them but not after the last one
///   (`a[1-2]b[3-4]`, not `node[1-2].cluster`). The last bracket varies fastest, then the first,
///   the second, and so on, as Slurm orders them.
/// - Duplicates are kept, as Slurm keeps them.
public enum SlurmHostlist {
    /// The most names one range may give, as in Slurm.
    public static let maximumRange = 65_536

    /// The host names of `list`, in Slurm's order. Throws ``WorkerDiscoveryError/invalidHostlist(_:reason:)``.
    public static func expand(_ list: String) throws(WorkerDiscoveryError) -> [String] {
        var names: [String] = []
        for entry in try entries(of: list) {
            names += try expandEntry(entry, in: list)
        }
        return names
    }

    /// The list split at commas and spaces outside brackets.
    private static func entries(of list: String) throws(WorkerDiscoveryError) -> [Substring] {
        var entries: [Substring] = []
        var depth = 0
        var start = list.startIndex
        for index in list.indices {
            switch list[index] {
            case "[":
                depth += 1
                guard depth == 1 else { throw .invalidHostlist(list, reason: "a bracket inside a bracket") }
            case "]":
                depth -= 1
                guard depth == 0 else { throw .invalidHostlist(list, reason: "a ']' without its '['") }
            case ",", " ", "\t", "\n":
                if depth == 0 {
                    entries.append(list[start..<index])
                    start = list.index(after: index)
                } else if list[index] != "," {
                    throw .invalidHostlist(list, reason: "a space inside brackets")
                }
            default: break
            }
        }
        guard depth == 0 else { throw .invalidHostlist(list, reason: "a '[' without its ']'") }
        entries.append(list[start...])
        return entries.filter { !$0.isEmpty }
    }

    /// One entry: text and bracket groups, the last group at its end.
    private static func expandEntry(_ entry: Substring, in list: String) throws(WorkerDiscoveryError) -> [String] {
        // Texts t0..tn and groups g1..gn: t0 g1 t1 g2 ... gn, with tn empty.
        var texts: [Substring] = []
        var groups: [[String]] = []
        var rest = entry
        while let open = rest.firstIndex(of: "[") {
            texts.append(rest[..<open])
            guard let close = rest[open...].firstIndex(of: "]") else {
                throw .invalidHostlist(list, reason: "a '[' without its ']'")
            }
            groups.append(try numbers(in: rest[rest.index(after: open)..<close], list: list))
            rest = rest[rest.index(after: close)...]
        }
        guard !groups.isEmpty else { return [String(entry)] }
        guard rest.isEmpty else {
            throw .invalidHostlist(list, reason: "'\(entry)' has text after its last bracket")
        }
        // Slurm's order: the last group fastest, then the first, second, ... group.
        let order = [groups.count - 1] + Array(0..<(groups.count - 1))
        var positions = [Int](repeating: 0, count: groups.count)
        var names: [String] = []
        let total = groups.reduce(1) { $0.multipliedReportingOverflow(by: $1.count).partialValue }
        guard total <= maximumRange * 16 else {
            throw .invalidHostlist(list, reason: "'\(entry)' names too many hosts")
        }
        names.reserveCapacity(total)
        while true {
            var name = ""
            for (index, group) in groups.enumerated() { name += texts[index] + group[positions[index]] }
            names.append(name)
            var digit = 0
            while digit < order.count {
                let group = order[digit]
                positions[group] += 1
                if positions[group] < groups[group].count { break }
                positions[group] = 0
                digit += 1
            }
            if digit == order.count { return names }
        }
    }

    /// The numbers of one bracket, `1-3,07`, each written with its range's width.
    private static func numbers(in bracket: Substring, list: String) throws(WorkerDiscoveryError) -> [String] {
        var numbers: [String] = []
        for range in bracket.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
                let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1])
            else { throw .invalidHostlist(list, reason: "'\(range)' is not a number or a range like 1-4") }
            guard low <= high else { throw .invalidHostlist(list, reason: "the range '\(range)' runs backwards") }
            guard high - low < maximumRange else {
                throw .invalidHostlist(list, reason: "the range '\(range)' names more than \(maximumRange) hosts")
            }
            let width = bounds[0].count
            for value in low...high {
                let digits = String(value)
                numbers.append(String(repeating: "0", count: max(0, width - digits.count)) + digits)
            }
        }
        return numbers
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
