import Foundation

/// Masks secrets before configuration is printed or logged.
public enum Redaction {
    /// The text that replaces a secret.
    public static let mask = "***"

    /// Masks a value according to its key: secrets entirely, URLs only in their password part.
    /// - Parameters:
    ///   - value: The raw value.
    ///   - key: The key it belongs to.
    public static func redact(_ value: String, for key: ConfigKey) -> String {
        if key.isSecret { return value.isEmpty ? "" : mask }
        if key.isURLWithCredentials { return redactURLPassword(value) }
        return value
    }

    /// Replaces the password in `scheme://user:password@host...` and in libpq `password=...` pairs.
    /// - Parameter text: A URL or connection string.
    public static func redactURLPassword(_ text: String) -> String {
        var result = text
        if let schemeEnd = result.range(of: "://") {
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
            while let range = result.range(of: marker, range: searchStart..<result.endIndex) {
                let valueEnd = result[range.upperBound...].firstIndex(where: { $0 == " " || $0 == "&" }) ?? result.endIndex
                result.replaceSubrange(range.upperBound..<valueEnd, with: mask)
                searchStart = result.index(range.upperBound, offsetBy: mask.count, limitedBy: result.endIndex) ?? result.endIndex
            }
        }
        return result
    }
}
