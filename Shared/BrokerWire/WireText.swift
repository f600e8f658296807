import SharedJSON

/// Reads the brokers' text messages (subscriptions, order updates, candles) with `JSONDecoder`, through ``JSONValue``, so
/// each decoder checks its fields one by one and says which is wrong. Text messages are rare; ticks are binary.
enum WireText {
    /// The message as a JSON value, or what made it not JSON.
    static func parse(_ text: String) -> Result<JSONValue, WireTextError> {
        // JSONDecoder takes `[1,]`; the brokers' (Python) parsers do not, so neither do we.
        if hasTrailingComma(Array(text.utf8)) { return .failure(WireTextError(message: "not JSON: a comma before ] or }")) }
        do {
            return .success(try JSONValue.parse(text.utf8))
        } catch {
            return .failure(WireTextError(message: "not JSON: \(error)"))
        }
    }

    /// Whether a `,` is followed (after white space) by `]` or `}` outside a string.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var index = 0
        var inString = false
        var last: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                if byte == 0x5C {
                    index += 1
                } else if byte == 0x22 {
                    inString = false
                    last = byte
                }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x20, 0x0A, 0x0D, 0x09: break
            case 0x5D, 0x7D:
                if last == 0x2C { return true }
                last = byte
            default: last = byte
            }
        }
        return false
    }

    /// The exact source text of the member `key` of the top-level object in `text`, which must be valid JSON (parse
    /// it first). For order updates, forwarded as the broker wrote them.
    static func rawMember(_ key: String, of text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }
        /// Skips a string starting at `index` (a quote); returns its raw bytes without the quotes.
        func skipString() -> ArraySlice<UInt8> {
            let start = index + 1
            index += 1
            while index < bytes.count, bytes[index] != 0x22 {
                index += bytes[index] == 0x5C ? 2 : 1
            }
            index += 1
            return bytes[start..<min(index - 1, bytes.count)]
        }
        /// Skips one value; strings are skipped whole so brackets inside them do not count.
        func skipValue() {
            var depth = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x22 {
                    _ = skipString()
                    if depth == 0 { return }
                    continue
                }
                if byte == 0x7B || byte == 0x5B {
                    depth += 1
                } else if byte == 0x7D || byte == 0x5D {
                    if depth == 0 { return }
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                } else if depth == 0, byte == 0x2C || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                    return
                }
                index += 1
            }
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == 0x7B else { return nil }
        index += 1
        let wanted = Array(key.utf8)
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x22 else { return nil }
            let name = skipString()
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x3A else { return nil }
            index += 1
            skipSpace()
            let start = index
            skipValue()
            // Keys written with escapes (`\u0064ata`) are not matched; no broker writes them.
            if Array(name) == wanted { return String(decoding: bytes[start..<index], as: UTF8.self) }
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x2C else { return nil }
            index += 1
        }
    }
}

/// Text that is not JSON.
struct WireTextError: Error {
    var message: String
}
