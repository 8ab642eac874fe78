/// Reads the kernel XML of an xclbin's `EMBEDDED_METADATA` section: each
/// `project/platform/device/core/kernel` element, its `arg` elements (name, id,
/// addressQualifier, offset, size) and its `instance` elements.
///
/// A small tag scanner rather than a general XML parser: the metadata Vitis writes is
/// flat, machine-made XML, and this keeps the device model free of XML libraries.
enum KernelMetadata {
    static func parse(_ bytes: ArraySlice<UInt8>) throws(DeviceError) -> [AXLF.Kernel] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidXclbin("the kernel metadata is not UTF-8 text")
        }
        var kernels: [AXLF.Kernel] = []
        var current: AXLF.Kernel?
        var sawProject = false
        for tag in try tags(in: text) {
            switch (tag.name, tag.kind) {
            case ("project", .open): sawProject = true
            case ("kernel", .open), ("kernel", .empty):
                guard current == nil else { throw .invalidXclbin("a kernel element inside another") }
                guard let name = tag.attributes["name"], !name.isEmpty else {
                    throw .invalidXclbin("a kernel element without a name")
                }
                current = AXLF.Kernel(name: name, arguments: [], instances: [])
                if tag.kind == .empty {
                    kernels.append(current!)
                    current = nil
                }
            case ("kernel", .close):
                guard let kernel = current else { throw .invalidXclbin("an unmatched </kernel>") }
                kernels.append(try ordered(kernel))
                current = nil
            case ("arg", .open), ("arg", .empty):
                guard current != nil else { continue }
                current!.arguments.append(try argument(tag, kernel: current!.name))
            case ("instance", .open), ("instance", .empty):
                guard current != nil else { continue }
                guard let name = tag.attributes["name"], !name.isEmpty else {
                    throw .invalidXclbin("an instance of kernel \(current!.name) without a name")
                }
                current!.instances.append(name)
            default: continue
            }
        }
        guard sawProject else { throw .invalidXclbin("the kernel metadata has no <project> element") }
        guard current == nil else { throw .invalidXclbin("the kernel metadata ends inside a kernel element") }
        return kernels
    }

    /// Sorts arguments by index and checks the indices run 0, 1, 2, ...
    private static func ordered(_ kernel: AXLF.Kernel) throws(DeviceError) -> AXLF.Kernel {
        var kernel = kernel
        kernel.arguments.sort { $0.index < $1.index }
        for (position, argument) in kernel.arguments.enumerated() where argument.index != position {
            throw .invalidXclbin("kernel \(kernel.name): argument ids are not 0, 1, 2, ... (\(argument.name))")
        }
        return kernel
    }

    private static func argument(_ tag: Tag, kernel: String) throws(DeviceError) -> AXLF.Argument {
        func number(_ key: String) throws(DeviceError) -> Int {
            guard let text = tag.attributes[key], let value = parseInteger(text), value >= 0 else {
                throw .invalidXclbin("kernel \(kernel): an argument has no valid \(key)")
            }
            return value
        }
        guard let name = tag.attributes["name"], !name.isEmpty else {
            throw .invalidXclbin("kernel \(kernel): an argument without a name")
        }
        let qualifier = try number("addressQualifier")
        guard
            [AXLF.Argument.scalar, AXLF.Argument.global, AXLF.Argument.constant, AXLF.Argument.stream].contains(
                qualifier)
        else {
            throw .invalidXclbin("kernel \(kernel): argument \(name) has unsupported addressQualifier \(qualifier)")
        }
        return AXLF.Argument(
            name: name, index: try number("id"), addressQualifier: qualifier,
            offset: tag.attributes["offset"].flatMap(parseInteger) ?? 0,
            size: tag.attributes["size"].flatMap(parseInteger) ?? 0)
    }

    /// Decimal or `0x` hexadecimal.
    static func parseInteger(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") { return Int(trimmed.dropFirst(2), radix: 16) }
        return Int(trimmed)
    }

    struct Tag {
        enum Kind { case open, close, empty }
        var name: String
        var kind: Kind
        var attributes: [String: String]
    }

    /// The element tags of `text`, skipping the declaration, comments and CDATA.
    static func tags(in text: String) throws(DeviceError) -> [Tag] {
        let scalars = Array(text.unicodeScalars)
        var tags: [Tag] = []
        var position = 0
        func starts(_ prefix: String, at index: Int) -> Bool {
            let pattern = Array(prefix.unicodeScalars)
            return index + pattern.count <= scalars.count && Array(scalars[index..<(index + pattern.count)]) == pattern
        }
        func skip(past terminator: String, from index: Int) throws(DeviceError) -> Int {
            var cursor = index
            while cursor < scalars.count {
                if starts(terminator, at: cursor) { return cursor + terminator.unicodeScalars.count }
                cursor += 1
            }
            throw .invalidXclbin("the kernel metadata ends inside a tag")
        }
        while position < scalars.count {
            guard scalars[position] == "<" else {
                position += 1
                continue
            }
            if starts("<!--", at: position) {
                position = try skip(past: "-->", from: position)
            } else if starts("<![CDATA[", at: position) {
                position = try skip(past: "]]>", from: position)
            } else if starts("<?", at: position) || starts("<!", at: position) {
                position = try skip(past: ">", from: position)
            } else {
                let end = try skip(past: ">", from: position)
                tags.append(try tag(String(String.UnicodeScalarView(scalars[(position + 1)..<(end - 1)]))))
                position = end
            }
        }
        return tags
    }

    private static func tag(_ body: String) throws(DeviceError) -> Tag {
        var inner = Substring(body)
        var kind = Tag.Kind.open
        if inner.hasPrefix("/") {
            kind = .close
            inner = inner.dropFirst()
        } else if inner.hasSuffix("/") {
            kind = .empty
            inner = inner.dropLast()
        }
        let name = inner.prefix { !$0.isWhitespace }
        guard !name.isEmpty else { throw .invalidXclbin("an empty tag in the kernel metadata") }
        var attributes: [String: String] = [:]
        var rest = inner.dropFirst(name.count)
        while true {
            rest = rest.drop { $0.isWhitespace }
            guard !rest.isEmpty else { break }
            guard let equals = rest.firstIndex(of: "=") else {
                throw .invalidXclbin("a malformed attribute in <\(name)>")
            }
            let key = String(rest[..<equals]).trimmingSpaces
            rest = rest[rest.index(after: equals)...].drop { $0.isWhitespace }
            guard let quote = rest.first, quote == "\"" || quote == "'" else {
                throw .invalidXclbin("an unquoted attribute \(key) in <\(name)>")
            }
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: quote) else {
                throw .invalidXclbin("an unterminated attribute \(key) in <\(name)>")
            }
            attributes[key] = unescape(rest[..<close])
            rest = rest[rest.index(after: close)...]
        }
        return Tag(name: String(name), kind: kind, attributes: attributes)
    }

    private static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        return String(text)
            .replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
