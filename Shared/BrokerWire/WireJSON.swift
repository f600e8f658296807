// A small JSON reader and writer for the brokers' text messages, so BrokerWire needs no Foundation.
// Text messages are rare (subscriptions, order updates); this is not on the tick path.

/// A parsed JSON value. Numbers keep their source text so large integers and exact decimals survive.
enum WireJSON: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([WireJSON])
    /// Members in source order; `raw` is each value's exact source text.
    case object([(key: String, value: WireJSON, raw: String)])

    static func == (lhs: WireJSON, rhs: WireJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    subscript(key: String) -> WireJSON? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    func rawText(of key: String) -> String? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.raw
    }

    var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    var arrayValue: [WireJSON]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// An integer in range of `T`, from a JSON number without fraction or exponent.
    func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        if case let .number(text) = self { return T(text) }
        return nil
    }

    // MARK: Parsing

    struct ParseError: Error {
        var offset: Int
        var message: String
    }

    static func parse(_ text: String) throws(ParseError) -> WireJSON {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.bytes.count else {
            throw ParseError(offset: parser.at, message: "unexpected text after the JSON value")
        }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var at = 0
        static let maxDepth = 64

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
                at += 1
            }
        }

        func fail(_ message: String) -> ParseError { ParseError(offset: at, message: message) }

        mutating func expect(_ literal: StaticString, _ value: WireJSON) throws(ParseError) -> WireJSON {
            let count = literal.utf8CodeUnitCount
            guard at + count <= bytes.count else { throw fail("unexpected end of text") }
            let matches = literal.withUTF8Buffer { lit in
                (0..<count).allSatisfy { bytes[at + $0] == lit[$0] }
            }
            guard matches else { throw fail("invalid literal") }
            at += count
            return value
        }

        mutating func value(depth: Int) throws(ParseError) -> WireJSON {
            guard depth < Self.maxDepth else { throw fail("nesting too deep") }
            guard at < bytes.count else { throw fail("unexpected end of text") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> WireJSON {
            at += 1
            var members: [(key: String, value: WireJSON, raw: String)] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
                at += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let key = try string()
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                at += 1
                skipSpace()
                let start = at
                let value = try value(depth: depth + 1)
                let raw = String(decoding: bytes[start..<at], as: UTF8.self)
                members.append((key, value, raw))
                skipSpace()
                guard at < bytes.count else { throw fail("unexpected end of text") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> WireJSON {
            at += 1
            var items: [WireJSON] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
                at += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw fail("unexpected end of text") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func number() throws(ParseError) -> WireJSON {
            let start = at
            if bytes[at] == UInt8(ascii: "-") { at += 1 }
            var digits = 0
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1; digits += 1 }
            guard digits > 0 else { throw fail("invalid number") }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                var fraction = 0
                while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1; fraction += 1 }
                guard fraction > 0 else { throw fail("invalid number") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                var exponent = 0
                while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1; exponent += 1 }
                guard exponent > 0 else { throw fail("invalid number") }
            }
            return .number(String(decoding: bytes[start..<at], as: UTF8.self))
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard at + 4 <= bytes.count else { throw fail("unexpected end of text") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[at]
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | digit
                at += 1
            }
            return value
        }

        mutating func string() throws(ParseError) -> String {
            at += 1
            var out = [UInt8]()
            while true {
                guard at < bytes.count else { throw fail("unterminated string") }
                let c = bytes[at]
                if c == UInt8(ascii: "\"") { at += 1; break }
                if c < 0x20 { throw fail("control character in string") }
                if c != UInt8(ascii: "\\") { out.append(c); at += 1; continue }
                at += 1
                guard at < bytes.count else { throw fail("unterminated string") }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), at + 6 <= bytes.count,
                       bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") {
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    out.append(contentsOf: String(unicode).utf8)
                default:
                    throw fail("invalid escape")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    // MARK: Writing

    /// A JSON string literal for `text`, escaping what JSON requires.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }
}
