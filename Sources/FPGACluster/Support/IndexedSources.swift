import Synchronization

/// Hands out an array's elements with their indices, once each, to any number of tasks.
final class IndexedArraySource<Element: Sendable>: Sendable {
    private let elements: [Element]
    private let cursor = Mutex(0)

    init(_ elements: [Element]) { self.elements = elements }

    func next() -> (index: Int, input: Element)? {
        cursor.withLock { index in
            guard index < elements.count else { return nil }
            defer { index += 1 }
            return (index, elements[index])
        }
    }
}

/// Hands out consecutive slices of a byte array (at least one, even when it is empty).
final class ChunkedBytesSource: Sendable {
    private let bytes: [UInt8]
    private let chunkSize: Int
    private let cursor = Mutex(0)
    let chunkCount: Int

    init(_ bytes: [UInt8], chunkSize: Int) {
        self.bytes = bytes
        self.chunkSize = chunkSize
        chunkCount = max(1, (bytes.count + chunkSize - 1) / chunkSize)
    }

    func next() -> (index: Int, input: ArraySlice<UInt8>)? {
        cursor.withLock { index in
            guard index < chunkCount else { return nil }
            defer { index += 1 }
            let start = index * chunkSize
            return (index, bytes[start..<min(bytes.count, start + chunkSize)])
        }
    }
}

/// Collects outputs delivered in order (the pipeline's sink calls are serial).
final class OrderedCollector<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    func append(_ element: Element) { elements.withLock { $0.append(element) } }
    func take() -> [Element] {
        elements.withLock { elements in
            var taken: [Element] = []
            swap(&taken, &elements)
            return taken
        }
    }
}

/// Concatenates byte arrays delivered in order.
final class ByteCollector: Sendable {
    private let bytes: Mutex<[UInt8]>

    init(reserving capacity: Int = 0) {
        var initial: [UInt8] = []
        initial.reserveCapacity(capacity)
        bytes = Mutex(initial)
    }

    func append(_ piece: some Collection<UInt8>) { bytes.withLock { $0.append(contentsOf: piece) } }
    func take() -> [UInt8] {
        bytes.withLock { bytes in
            var taken: [UInt8] = []
            swap(&taken, &bytes)
            return taken
        }
    }
}
