import SharedBasics

extension Redaction {
    /// Masks a value according to its key: secrets entirely, URLs only in their password part.
    /// - Parameters:
    ///   - value: The raw value.
    ///   - key: The key it belongs to.
    public static func redact(_ value: String, for key: ConfigKey) -> String {
        if key.isSecret { return value.isEmpty ? "" : mask }
        if key.isURLWithCredentials { return redactURLPassword(value) }
        return value
    }
}
