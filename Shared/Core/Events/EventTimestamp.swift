import Foundation
import SharedJSON
import SharedBasics

/// Reads event timestamps as the seeds' publishers wrote them: epoch seconds (a JSON number or numeric
/// string; milliseconds are recognised by their size) or ISO-8601 text (`2025-11-01T12:00:00Z`,
/// `2025-11-01T17:30:00+05:30`, or naive `2025-11-01T12:00:00.123456`, taken as UTC as Python's
/// `datetime.utcnow().isoformat()` means it).
public enum EventTimestamp {
    /// Seconds since 1970 for a raw JSON value, or `nil` when it is not a timestamp.
    /// - Parameter raw: The value as sent: a number, or text.
    public static func seconds(from raw: JSONValue) -> Double? {
        if let number = raw.doubleValue { return normalise(number) }
        guard let text = raw.stringValue else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = Double(trimmed) { return normalise(value) }
        return parseISO8601(trimmed)
    }

    /// The largest number accepted: 10^14 milliseconds (the year 5138); a larger one is no time a publisher meant.
    public static let maxNumber = 1e14

    private static func normalise(_ value: Double) -> Double? {
        guard value.isFinite, value >= 0, value <= maxNumber else { return nil }
        // 1e11 seconds is the year 5138: anything larger is milliseconds.
        return value > 1e11 ? value / 1000 : value
    }

    /// Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH[:]MM]`, or a bare `YYYY-MM-DD`.
    /// - Parameter text: The text.
    public static func parseISO8601(_ text: String) -> Double? {
        let chars = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= chars.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let c = chars[index + offset]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            index += digits
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard index < chars.count, chars[index] == c else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offsetSeconds = 0
        if index < chars.count {
            guard chars[index] == 84 || chars[index] == 32 else { return nil }  // 'T' or ' '
            index += 1
            guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(58) {
                guard let s = number(2), s <= 60 else { return nil }
                second = s
                if expect(46) {
                    var scale = 0.1
                    var digits = 0
                    while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                        fraction += Double(chars[index] - 48) * scale
                        scale /= 10
                        index += 1
                        digits += 1
                    }
                    guard digits > 0 else { return nil }
                }
            }
            if index < chars.count {
                let sign = chars[index]
                if sign == 90 {  // 'Z'
                    index += 1
                } else if sign == 43 || sign == 45 {  // '+' / '-'
                    index += 1
                    guard let oh = number(2) else { return nil }
                    _ = expect(58)
                    guard let om = number(2), oh < 24, om < 60 else { return nil }
                    offsetSeconds = (oh * 3600 + om * 60) * (sign == 43 ? 1 : -1)
                } else {
                    return nil
                }
            }
        }
        guard index == chars.count else { return nil }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let local = Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
        return local - Double(offsetSeconds)
    }
}
