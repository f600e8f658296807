/// Short, printable excerpts of values that came from outside (a query parameter, a body field, a payload), so that an
/// error message, a log line or a stored dead letter quotes a bad value without echoing all of it: a 10 KB `symbol`
/// becomes `'AAAAAAAAAAAA…' (10240 characters)`.
public enum Excerpt {
    /// How many characters of a bad value an error message quotes, unless told otherwise.
    public static let defaultLimit = 40

    /// The value in single quotes, cut to `limit` characters (with `…` and the full length when cut); control
    /// characters (newlines, escapes) are shown as `?` so that a quoted value cannot forge a log line.
    /// - Parameters:
    ///   - value: The value as received.
    ///   - limit: Most characters of it to show.
    /// - Returns: E.g. `'TURBO'` or `'XXXXXXXX…' (10240 characters)`.
    public static func quoted(_ value: some StringProtocol, limit: Int = defaultLimit) -> String {
        let shown = prefix(value, limit: limit)
        let count = value.count
        return count > max(0, limit) ? "'\(shown)…' (\(count) characters)" : "'\(shown)'"
    }

    /// At most `limit` characters of the value, control characters shown as `?`, without quotes or marks.
    /// - Parameters:
    ///   - value: The value as received.
    ///   - limit: Most characters of it to keep.
    public static func prefix(_ value: some StringProtocol, limit: Int = defaultLimit) -> String {
        String(value.prefix(max(0, limit)).map { character in
            character.unicodeScalars.contains { $0.properties.generalCategory == .control } ? "?" : character
        })
    }

    /// The longest prefix of `text` that is at most `maxBytes` bytes of UTF-8 and ends on a character boundary (a
    /// stored excerpt never ends in half a character).
    /// - Parameters:
    ///   - text: The text.
    ///   - maxBytes: Most UTF-8 bytes to keep.
    /// - Returns: The prefix, and whether anything was cut.
    public static func utf8Prefix(_ text: String, maxBytes: Int) -> (text: String, truncated: Bool) {
        guard text.utf8.count > maxBytes else { return (text, false) }
        var end = text.startIndex
        var bytes = 0
        for index in text.indices {
            let size = text[index].utf8.count
            if bytes + size > maxBytes { break }
            bytes += size
            end = text.index(after: index)
        }
        return (String(text[..<end]), true)
    }
}
