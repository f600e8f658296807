/// Masks secrets (passwords in URLs and connection strings) before text is printed, logged or returned in an error.
///
/// Connection strings are parsed the way libpq parses them, not searched for `password=`: `key=value` pairs with
/// optional spaces around `=`, values in single quotes with `\'` and `\\` escapes (and backslash escapes outside
/// quotes), and URLs (`scheme://user:password@host/...?password=...`, the form Redis URLs share).
public enum Redaction {
    /// The text that replaces a secret.
    public static let mask = "***"

    /// Replaces every password in a URL (user info and `password` query parameters) or a libpq `key=value` string
    /// with ``mask``.
    /// - Parameters:
    ///   - text: A URL or connection string.
    public static func redactURLPassword(_ text: String) -> String {
        var result = text
        for span in passwordSpans(in: text).reversed() {
            result.replaceSubrange(span.range, with: mask)
        }
        return result
    }

    /// Replaces every occurrence of the password of `connectionString` (and of `password`) in `text` with ``mask``,
    /// for messages that quote parts of a connection string (libpq errors do).
    /// - Parameters:
    ///   - text: The message to clean.
    ///   - connectionString: The URL (`scheme://user:password@host`) or `key=value` string the password comes from.
    ///   - password: A password given separately, if any.
    ///   - minimumLength: Secrets shorter than this are left alone (masking a one-letter password mangles the message).
    public static func scrub(_ text: String, connectionString: String, password: String? = nil, minimumLength: Int = 1) -> String {
        // The value as the server saw it, and as written when that differs (escapes, percent-encoding; not the quotes).
        var secrets = passwordSpans(in: connectionString).flatMap { span in
            let written = connectionString[span.range]
            return written.hasPrefix("'") ? [span.secret] : [span.secret, String(written)]
        }
        if let password { secrets.append(password) }
        var result = text
        // Longest first, so a secret that contains another is masked whole.
        for secret in Set(secrets).sorted(by: { $0.count > $1.count }) where !secret.isEmpty && secret.count >= minimumLength {
            result = result.replacing(secret, with: mask)
        }
        return result
    }

    /// Where the passwords of a URL or a `key=value` string stand, and their values (unquoted, unescaped, decoded).
    static func passwordSpans(in text: String) -> [(range: Range<String.Index>, secret: String)] {
        text.contains("://") ? urlPasswordSpans(text) : keywordPasswordSpans(text)
    }

    private static func isPasswordKey(_ key: Substring) -> Bool {
        key.lowercased() == "password"
    }

    // MARK: URLs

    private static func urlPasswordSpans(_ text: String) -> [(range: Range<String.Index>, secret: String)] {
        var spans: [(range: Range<String.Index>, secret: String)] = []
        guard let schemeEnd = text.firstRange(of: "://") else { return spans }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        if let at = afterScheme[..<authorityEnd].lastIndex(of: "@"), let colon = afterScheme[..<at].firstIndex(of: ":") {
            let range = text.index(after: colon)..<at
            spans.append((range, percentDecoded(text[range])))
        }
        if let query = afterScheme[authorityEnd...].firstIndex(of: "?") {
            let queryEnd = text[query...].firstIndex(of: "#") ?? text.endIndex
            var start = text.index(after: query)
            while start < queryEnd {
                let end = text[start..<queryEnd].firstIndex(of: "&") ?? queryEnd
                let pair = text[start..<end]
                if let equals = pair.firstIndex(of: "="), isPasswordKey(pair[..<equals]) {
                    let range = text.index(after: equals)..<end
                    spans.append((range, percentDecoded(text[range])))
                }
                start = end < queryEnd ? text.index(after: end) : queryEnd
            }
        }
        return spans
    }

    /// `%40` → `@`; malformed escapes are kept as they are.
    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: key=value (libpq's conninfo syntax)

    private static func keywordPasswordSpans(_ text: String) -> [(range: Range<String.Index>, secret: String)] {
        var spans: [(range: Range<String.Index>, secret: String)] = []
        var index = text.startIndex
        func skipSpaces() {
            while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
        }
        while true {
            skipSpaces()
            guard index < text.endIndex else { break }
            let keyStart = index
            while index < text.endIndex, text[index] != "=", !text[index].isWhitespace { index = text.index(after: index) }
            let key = text[keyStart..<index]
            skipSpaces()
            // Not `key=value` from here on (libpq would refuse it): mask the rest if it follows a password key.
            guard index < text.endIndex, text[index] == "=" else {
                if isPasswordKey(key), index < text.endIndex { spans.append((index..<text.endIndex, String(text[index...]))) }
                break
            }
            index = text.index(after: index)
            skipSpaces()
            let valueStart = index
            var value = ""
            if index < text.endIndex, text[index] == "'" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "'" {
                    if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                if index < text.endIndex { index = text.index(after: index) }  // the closing quote
            } else {
                while index < text.endIndex, !text[index].isWhitespace {
                    if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
                    value.append(text[index])
                    index = text.index(after: index)
                }
            }
            if isPasswordKey(key) { spans.append((valueStart..<index, value)) }
        }
        return spans
    }
}
