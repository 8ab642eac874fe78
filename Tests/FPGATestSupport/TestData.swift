/// Deterministic test inputs.
public enum TestData {
    /// Pseudo-random bytes (incompressible) from a seed.
    public static func random(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var index = 0
            while index < count {
                state &+= 0x9E37_79B9_7F4A_7C15
                var mixed = state
                mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
                mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
                mixed ^= mixed >> 31
                for byte in 0..<8 where index < count {
                    buffer[index] = UInt8(truncatingIfNeeded: mixed >> (byte * 8))
                    index += 1
                }
            }
            initialized = count
        }
    }

    /// Highly repetitive bytes.
    public static func repetitive(count: Int) -> [UInt8] {
        let pattern = Array("FPGACluster compresses this line again and again. ".utf8)
        return (0..<count).map { pattern[$0 % pattern.count] }
    }

    /// Text-like bytes with structure and variety, like a log file.
    public static func logLines(count: Int, seed: UInt64 = 7) -> [UInt8] {
        let words = [
            "GET", "POST", "/api/v1/items", "/static/app.js", "200", "404", "user", "session", "cache", "miss",
        ]
        var noise = random(count: count / 8 + 64, seed: seed).makeIterator()
        var out: [UInt8] = []
        out.reserveCapacity(count + 128)
        var line = 0
        while out.count < count {
            line += 1
            out.append(contentsOf: "2026-11-26T07:\(line % 60):\(line % 7) ".utf8)
            for _ in 0..<4 {
                let pick = Int(noise.next() ?? 0) % words.count
                out.append(contentsOf: words[pick].utf8)
                out.append(0x20)
            }
            out.append(contentsOf: "id=\(noise.next() ?? 0)\(noise.next() ?? 0)\n".utf8)
        }
        return Array(out.prefix(count))
    }
}
