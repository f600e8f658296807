import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime
import SharedBasics

/// Reads query parameters with errors that name the parameter and the problem.
struct QueryReader {
    let parameters: [String: String]

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
        parameters = values
    }

    func string(_ name: String) -> String? {
        guard let value = parameters[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// A name parameter (`symbol`, `tradingsymbol`) as given, with `+` read as a space, as HTML forms and most HTTP
    /// clients encode one (`symbol=NIFTY+50`); names never contain `+`. Nil when absent.
    func name(_ name: String) -> String? {
        parameters[name].map { $0.replacingOccurrences(of: "+", with: " ") }
    }

    /// The value of a parameter whose values are a fixed list: nil when absent, 400 when given empty (`timeframe=`
    /// does not mean the default: a client that sends it has a bug to hear about).
    func choice(_ name: String, oneOf choices: String) throws(APIError) -> String? {
        guard parameters[name] != nil else { return nil }
        guard let value = string(name) else {
            throw APIError(.badRequest, .invalidParameter, "\(name) is empty; give one of \(choices) or leave it out", field: name)
        }
        return value
    }

    func bool(_ name: String, default defaultValue: Bool) throws(APIError) -> Bool {
        guard let text = try choice(name, oneOf: "true, false") else { return defaultValue }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw APIError(.badRequest, .invalidParameter, "\(name) must be true or false, not \(Excerpt.quoted(text))", field: name)
        }
    }

    func int64(_ name: String) throws(APIError) -> Int64? {
        guard let text = try nonEmpty(name) else { return nil }
        guard let value = Int64(text), value > 0, value <= Int64(UInt32.max) else {
            throw APIError(
                .badRequest, .invalidParameter, "\(name) must be an instrument token (a positive integer up to \(UInt32.max)), not \(Excerpt.quoted(text))",
                field: name
            )
        }
        return value
    }

    /// Refuses parameters the endpoint does not take (400 `invalid_parameter` naming them and the ones it takes), so a
    /// misspelt `expiry` or an object-encoded `token[a]=1` is an error, not silently ignored.
    func requireOnly(_ names: Set<String>) throws(APIError) {
        let unknown = parameters.keys.filter { !names.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let takes = names.isEmpty ? "no query parameters" : names.sorted().joined(separator: ", ")
        throw APIError(
            .badRequest, .invalidParameter, "unknown query parameter \(Excerpt.quoted(first, limit: 40)); this endpoint takes \(takes)", field: String(first.prefix(40))
        )
    }

    /// A parameter's value: nil when absent, 400 when present but empty (`limit=` is a client bug, not the default).
    func nonEmpty(_ name: String) throws(APIError) -> String? {
        guard parameters[name] != nil else { return nil }
        guard let value = string(name) else { throw APIError(.badRequest, .invalidParameter, "\(name) is empty; give a value or leave it out", field: name) }
        return value
    }

    /// A whole number in `range`, or `defaultValue` when absent.
    func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = try nonEmpty(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(
                .badRequest, .invalidParameter, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), not \(Excerpt.quoted(text))",
                field: name
            )
        }
        return value
    }

    /// A positive, finite price (`underlying_ltp=2641.5`), or nil when absent.
    func price(_ name: String) throws(APIError) -> Double? {
        guard let text = try nonEmpty(name) else { return nil }
        guard let value = Double(text), value.isFinite, value > 0, value < 1e9 else {
            throw APIError(.badRequest, .invalidParameter, "\(name) must be a positive price, not \(Excerpt.quoted(text))", field: name)
        }
        return value
    }

    /// An expiry, `yyyy-MM-dd` or `26FEB2026`, as `yyyy-MM-dd`; nil when absent.
    func expiry(_ name: String = "expiry") throws(APIError) -> String? {
        guard let text = try nonEmpty(name) else { return nil }
        guard let day = IndianMarket.parseExpiry(text) else {
            throw APIError(.badRequest, .invalidParameter, "\(name) must be a day like 2026-02-26 or 26FEB2026, not \(Excerpt.quoted(text))", field: name)
        }
        return day
    }

    func timeframe(_ name: String = "timeframe", default defaultValue: BarTimeframe) throws(APIError) -> BarTimeframe {
        guard let text = try choice(name, oneOf: "1min, 5min, 15min") else { return defaultValue }
        guard let timeframe = BarTimeframe(parameter: text) else {
            throw APIError(.badRequest, .invalidParameter, "timeframe must be one of 1min, 5min, 15min, not \(Excerpt.quoted(text))", field: name)
        }
        return timeframe
    }

    /// An ISO-8601 instant (`2025-11-20T09:15:00+05:30`, `...Z`, fractional seconds allowed) or a date (`2025-11-20`,
    /// midnight IST).
    func instant(_ name: String) throws(APIError) -> Date? {
        guard let text = string(name) else { return nil }
        if let date = Self.parseInstant(text) { return date }
        throw APIError(
            .badRequest, .invalidParameter,
            "\(name) must be an ISO-8601 time like 2025-11-20T09:15:00+05:30 or a date like 2025-11-20, not \(Excerpt.quoted(text))", field: name
        )
    }

    static func parseInstant(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let day = IndianMarket.parseDay(text) { return IndianMarket.startOfDay(day) }
        return nil
    }
}

/// The values the market APIs accept, stated once (the specs' `enum`, `pattern` and `maxLength` say the same).
enum MarketParameters {
    /// The exchanges an instrument can be on (Kite's `exchange` column); `exchange=` is matched in any case.
    static let exchanges = ["BCD", "BFO", "BSE", "CDS", "MCX", "NCO", "NFO", "NSE"]
    /// Longest underlying name `symbol=` accepts.
    static let maxSymbolLength = 40
    /// What a word of an underlying name may contain: ASCII letters, digits and `& - _ .`.
    static let symbolCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789&-_.".unicodeScalars)

    /// Whether `text` can be an underlying name, exactly as the spec's `pattern` (`^[A-Za-z0-9&._-]+( [A-Za-z0-9&._-]+)*$`)
    /// and `maxLength` say: words of those characters separated by single spaces, at most 40 characters.
    static func isUnderlyingName(_ text: String) -> Bool {
        guard !text.isEmpty, text.unicodeScalars.count <= maxSymbolLength else { return false }
        return text.split(separator: " ", omittingEmptySubsequences: false).allSatisfy { word in
            !word.isEmpty && word.unicodeScalars.allSatisfy { symbolCharacters.contains($0) }
        }
    }
}

/// The market's clock: IST, UTC+05:30 with no daylight saving.
enum IndianMarket {
    static let timeZone = TimeZone(secondsFromGMT: 19_800)!

    /// `yyyy-MM-dd` → days since 1970-01-01 (validated).
    static func parseDay(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month), day >= 1
        else { return nil }
        var components = DateComponents()
        components.year = year
        components.month = month
        components.day = day
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return Int(date.timeIntervalSince1970 / 86_400)
    }

    /// An expiry as users write it, `yyyy-MM-dd` or Kite's `26FEB2026` (any case), as `yyyy-MM-dd`; nil when it is
    /// neither or not a calendar day.
    static func parseExpiry(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        if parseDay(trimmed) != nil { return trimmed }
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        let characters = Array(trimmed)
        guard characters.count == 9, let day = Int(String(characters[0..<2])), let year = Int(String(characters[5..<9])),
            let month = months.firstIndex(of: String(characters[2..<5]))
        else { return nil }
        let iso = String(format: "%04d-%02d-%02d", year, month + 1, day)
        return parseDay(iso) != nil ? iso : nil
    }

    /// Midnight IST of a day.
    static func startOfDay(_ daysSinceEpoch: Int) -> Date {
        Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch * 86_400 - 19_800))
    }

    /// Today's date in IST as `yyyy-MM-dd`.
    static func today(_ now: Date = Date()) -> String {
        day(now)
    }

    /// An instant's IST date as `yyyy-MM-dd`.
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
