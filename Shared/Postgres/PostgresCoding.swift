import Foundation
import SharedBasics

/// A value that can be bound as a text-format query parameter or written by `COPY`.
///
/// `Int`, `Int16`, `Int32`, `Int64`, `Double`, `Float`, `String`, `Bool`, `Date` (ISO `timestamptz`), `UUID` and
/// `[UInt8]` (`bytea`, hex) conform. A `nil` bind (`Optional.none`) is sent as SQL `NULL`.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }

    /// Appends ``postgresText`` as UTF-8 to `buffer`. The default builds the string; numbers and dates write
    /// their digits directly, which keeps bulk `COPY` and large batches cheap.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    func appendPostgresText(to buffer: inout [UInt8])

    /// Whether the text form may contain bytes that COPY must escape (backslash, tab, newline, CR) or a NUL.
    /// The default is true; types that only ever print digits, signs, dots, dashes or letters return false.
    static var postgresTextMayNeedEscaping: Bool { get }
}

extension PostgresEncodable {
    /// Appends ``postgresText`` as UTF-8.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    public func appendPostgresText(to buffer: inout [UInt8]) {
        var text = postgresText
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }

    /// true: the text may need escaping for COPY.
    public static var postgresTextMayNeedEscaping: Bool { true }
}

/// Writes a signed integer's decimal digits without building a String.
@inline(__always)
func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
    if value < 0 {
        buffer.append(UInt8(ascii: "-"))
        appendDecimal(magnitude: value.magnitude, to: &buffer)
    } else {
        appendDecimal(magnitude: UInt64(value), to: &buffer)
    }
}

@inline(__always)
func appendDecimal(magnitude: UInt64, to buffer: inout [UInt8], minimumDigits: Int = 1) {
    var digits: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                 UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var rest = magnitude
    withUnsafeMutableBytes(of: &digits) { raw in
        let slots = raw.bindMemory(to: UInt8.self)
        repeat {
            slots[count] = UInt8(rest % 10) + 48
            rest /= 10
            count += 1
        } while rest > 0
        while count < minimumDigits {
            slots[count] = 48
            count += 1
        }
        for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(slots[index]) }
    }
}

/// A value that can be decoded from a column in PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Decodes a non-NULL column value.
    /// - Parameters:
    ///   - postgresText: The column value in PostgreSQL's text output format.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decoding`` when the text is not a valid value.
    init(postgresText: String) throws
}

private func decodingError<T>(_ text: String, as type: T.Type) -> PostgresError {
    let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
    return PostgresError(code: .decoding, message: "cannot decode \"\(shown)\" as \(T.self)")
}

extension Int: PostgresEncodable, PostgresDecodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// Writes the digits directly.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    public func appendPostgresText(to buffer: inout [UInt8]) { appendDecimal(Int64(self), to: &buffer) }
    /// false: digits and a sign only.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes an integer column.
    /// - Parameters:
    ///   - postgresText: Decimal digits.
    public init(postgresText: String) throws {
        guard let value = Int(postgresText) else { throw decodingError(postgresText, as: Int.self) }
        self = value
    }
}

extension Int16: PostgresEncodable, PostgresDecodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// Writes the digits directly.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    public func appendPostgresText(to buffer: inout [UInt8]) { appendDecimal(Int64(self), to: &buffer) }
    /// false: digits and a sign only.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `smallint` column.
    /// - Parameters:
    ///   - postgresText: Decimal digits.
    public init(postgresText: String) throws {
        guard let value = Int16(postgresText) else { throw decodingError(postgresText, as: Int16.self) }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// Writes the digits directly.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    public func appendPostgresText(to buffer: inout [UInt8]) { appendDecimal(Int64(self), to: &buffer) }
    /// false: digits and a sign only.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes an `integer` column.
    /// - Parameters:
    ///   - postgresText: Decimal digits.
    public init(postgresText: String) throws {
        guard let value = Int32(postgresText) else { throw decodingError(postgresText, as: Int32.self) }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// Writes the digits directly.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    public func appendPostgresText(to buffer: inout [UInt8]) { appendDecimal(self, to: &buffer) }
    /// false: digits and a sign only.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `bigint` column.
    /// - Parameters:
    ///   - postgresText: Decimal digits.
    public init(postgresText: String) throws {
        guard let value = Int64(postgresText) else { throw decodingError(postgresText, as: Int64.self) }
        self = value
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    /// Shortest text that round-trips; `NaN`, `Infinity` and `-Infinity` as PostgreSQL spells them.
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
    /// false: digits, sign, dot, exponent, `NaN`, `Infinity` only.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `double precision`, `real` or `numeric` column.
    /// - Parameters:
    ///   - postgresText: A decimal number, `NaN`, `Infinity` or `-Infinity`.
    public init(postgresText: String) throws {
        guard let value = Double(postgresText) else { throw decodingError(postgresText, as: Double.self) }
        self = value
    }
}

extension Float: PostgresEncodable, PostgresDecodable {
    /// Shortest text that round-trips; `NaN`, `Infinity` and `-Infinity` as PostgreSQL spells them.
    public var postgresText: String { Double(self).isFinite ? description : Double(self).postgresText }
    /// false: digits, sign, dot, exponent, `NaN`, `Infinity` only.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `real` column.
    /// - Parameters:
    ///   - postgresText: A decimal number, `NaN`, `Infinity` or `-Infinity`.
    public init(postgresText: String) throws {
        guard let value = Float(postgresText) else { throw decodingError(postgresText, as: Float.self) }
        self = value
    }
}

extension String: PostgresEncodable, PostgresDecodable {
    /// The string itself.
    public var postgresText: String { self }
    /// Decodes any column as its text.
    /// - Parameters:
    ///   - postgresText: The column's text.
    public init(postgresText: String) throws { self = postgresText }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    /// `true` or `false`.
    public var postgresText: String { self ? "true" : "false" }
    /// false: `true` or `false`.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `boolean` column.
    /// - Parameters:
    ///   - postgresText: `t` or `f` (also `true`/`false`).
    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true", "TRUE", "on", "1", "yes": self = true
        case "f", "false", "FALSE", "off", "0", "no": self = false
        default: throw decodingError(postgresText, as: Bool.self)
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    /// Lower-case hyphenated form.
    public var postgresText: String { uuidString.lowercased() }
    /// false: hex digits and dashes.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `uuid` column.
    /// - Parameters:
    ///   - postgresText: The hyphenated UUID.
    public init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw decodingError(postgresText, as: UUID.self) }
        self = value
    }
}

extension Array: PostgresEncodable where Element == UInt8 {
    /// `bytea` hex format: `\x0aff…`.
    public var postgresText: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        bytes.reserveCapacity(2 + count * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Decodes a `bytea` column (hex output format, which the client selects for every connection).
    /// - Parameters:
    ///   - postgresText: `\x` followed by hex digits.
    public init(postgresText: String) throws {
        let utf8 = Array(postgresText.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            throw decodingError(postgresText, as: [UInt8].self)
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else {
                throw decodingError(postgresText, as: [UInt8].self)
            }
            result.append(high << 4 | low)
            index += 2
        }
        self = result
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// ISO 8601 in UTC with microseconds, e.g. `2024-05-01 09:15:00.000000+00`.
    public var postgresText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        PostgresTimestamp.append(self, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
    /// Writes the timestamp directly.
    /// - Parameters:
    ///   - buffer: The bytes to append to.
    public func appendPostgresText(to buffer: inout [UInt8]) { PostgresTimestamp.append(self, to: &buffer) }
    /// false: digits, dashes, colons, a dot, a sign, maybe ` BC`.
    public static var postgresTextMayNeedEscaping: Bool { false }
    /// Decodes a `timestamptz`, `timestamp` (read as UTC) or `date` (midnight UTC) column in ISO `DateStyle`,
    /// which the client selects for every connection; `infinity`/`-infinity` become `distantFuture`/`distantPast`.
    /// - Parameters:
    ///   - postgresText: e.g. `2024-05-01 14:45:00+05:30`.
    public init(postgresText: String) throws {
        guard let value = PostgresTimestamp.parse(postgresText) else { throw decodingError(postgresText, as: Date.self) }
        self = value
    }
}

/// Fast, locale-free ISO timestamp formatting and parsing (DateFormatter is slow and locale-dependent).
enum PostgresTimestamp {
    private static let microsPerDay: Int64 = 86_400_000_000

    static func append(_ date: Date, to buffer: inout [UInt8]) {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var days = micros / microsPerDay
        var rest = micros % microsPerDay
        if rest < 0 { rest += microsPerDay; days -= 1 }
        let date = CivilDate(daysSinceEpoch: Int(days))
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        let seconds = rest / 1_000_000
        let fraction = rest % 1_000_000
        func pad(_ value: Int64, _ width: Int) { appendDecimal(magnitude: UInt64(value), to: &buffer, minimumDigits: width) }
        pad(year > 0 ? year : 1 - year, 4); buffer.append(UInt8(ascii: "-"))
        pad(month, 2); buffer.append(UInt8(ascii: "-"))
        pad(day, 2); buffer.append(UInt8(ascii: " "))
        pad(seconds / 3600, 2); buffer.append(UInt8(ascii: ":"))
        pad(seconds / 60 % 60, 2); buffer.append(UInt8(ascii: ":"))
        pad(seconds % 60, 2); buffer.append(UInt8(ascii: "."))
        pad(fraction, 6)
        buffer.append(UInt8(ascii: "+")); buffer.append(UInt8(ascii: "0")); buffer.append(UInt8(ascii: "0"))
        if year <= 0 { buffer.append(contentsOf: " BC".utf8) }
    }

    static func parse(_ text: String) -> Date? {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        var bytes = Array(text.utf8)
        var bc = false
        if bytes.count > 3, bytes.suffix(3) == Array(" BC".utf8) { bc = true; bytes.removeLast(3) }
        var index = 0
        func number(maxDigits: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while index < bytes.count, count < maxDigits, bytes[index] >= 48, bytes[index] <= 57 {
                value = value * 10 + Int64(bytes[index] - 48)
                index += 1
                count += 1
            }
            return count == 0 ? nil : value
        }
        func expect(_ char: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == char else { return false }
            index += 1
            return true
        }
        guard var year = number(maxDigits: 7), expect(UInt8(ascii: "-")), let month = number(maxDigits: 2),
              expect(UInt8(ascii: "-")), let day = number(maxDigits: 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        if bc { year = 1 - year }
        var micros = Int64(CivilDate(year: Int(year), month: Int(month), day: Int(day)).daysSinceEpoch) * microsPerDay
        if index == bytes.count { return Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
        guard bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T") else { return nil }
        index += 1
        guard let hour = number(maxDigits: 2), expect(UInt8(ascii: ":")), let minute = number(maxDigits: 2),
              expect(UInt8(ascii: ":")), let second = number(maxDigits: 2)
        else { return nil }
        micros += ((hour * 60 + minute) * 60 + second) * 1_000_000
        if expect(UInt8(ascii: ".")) {
            var fraction: Int64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { fraction = fraction * 10 + Int64(bytes[index] - 48); digits += 1 }
                index += 1
            }
            guard digits > 0 else { return nil }
            while digits < 6 { fraction *= 10; digits += 1 }
            micros += fraction
        }
        if index < bytes.count {
            if bytes[index] == UInt8(ascii: "Z") {
                index += 1
            } else {
                let sign: Int64
                switch bytes[index] {
                case UInt8(ascii: "+"): sign = 1
                case UInt8(ascii: "-"): sign = -1
                default: return nil
                }
                index += 1
                guard let offsetHours = number(maxDigits: 2) else { return nil }
                var offset = offsetHours * 3600
                if expect(UInt8(ascii: ":")) {
                    guard let minutes = number(maxDigits: 2) else { return nil }
                    offset += minutes * 60
                    if expect(UInt8(ascii: ":")) {
                        guard let seconds = number(maxDigits: 2) else { return nil }
                        offset += seconds
                    }
                }
                micros -= sign * offset * 1_000_000
            }
        }
        guard index == bytes.count else { return nil }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }
}
