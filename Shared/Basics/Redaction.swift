/// Masks secrets (passwords in URLs and connection strings) before text is printed, logged or returned in an error.
public enum Redaction {
    /// The text that replaces a secret.
    public static let mask = "***"

    /// Replaces the password in `scheme://user:password@host...` and in libpq `password=...` pairs with ``mask``.
    /// - Parameters:
    ///   - text: A URL or connection string.
    public static func redactURLPassword(_ text: String) -> String {
        var result = text
        if let schemeEnd = result.firstRange(of: "://") {
            let afterScheme = result[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
            if let at = afterScheme[..<authorityEnd].lastIndex(of: "@") {
                let userInfo = afterScheme[afterScheme.startIndex..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    result.replaceSubrange(result.index(after: colon)..<at, with: mask)
                }
            }
        }
        // key=value connection strings and URL query parameters.
        for marker in ["password=", "PASSWORD="] {
            var searchStart = result.startIndex
            while let range = result[searchStart...].firstRange(of: marker) {
                let valueEnd = result[range.upperBound...].firstIndex(where: { $0 == " " || $0 == "&" }) ?? result.endIndex
                result.replaceSubrange(range.upperBound..<valueEnd, with: mask)
                searchStart = result.index(range.upperBound, offsetBy: mask.count, limitedBy: result.endIndex) ?? result.endIndex
            }
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
        var secrets: [String] = []
        if let password, !password.isEmpty { secrets.append(password) }
        // URL form: scheme://user:password@host
        if let schemeEnd = connectionString.firstRange(of: "://") {
            let rest = connectionString[schemeEnd.upperBound...]
            if let at = rest.firstIndex(of: "@") {
                let userInfo = rest[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    secrets.append(String(userInfo[userInfo.index(after: colon)...]))
                }
            }
        }
        // key=value form and URL query: password=secret
        var search = connectionString[...]
        while let range = search.firstRange(of: "password=") {
            let tail = search[range.upperBound...]
            let end = tail.firstIndex(where: { $0 == " " || $0 == "&" || $0 == "\t" || $0 == "\n" }) ?? tail.endIndex
            var secret = String(tail[..<end])
            if secret.hasPrefix("'") { secret.removeFirst() }
            if secret.hasSuffix("'") { secret.removeLast() }
            secrets.append(secret)
            search = tail[end...]
        }
        var result = text
        for secret in secrets where !secret.isEmpty && secret.count >= minimumLength {
            result = result.replacing(secret, with: mask)
        }
        return result
    }
}
