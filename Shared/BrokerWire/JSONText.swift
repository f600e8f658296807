/// JSON text helpers for code that writes the brokers' small JSON bodies by hand.
public enum JSONText {
    /// A JSON string literal for `text` (quotes included), escaping what JSON requires.
    /// - Parameter text: The string to quote.
    public static func quoted(_ text: String) -> String {
        WireJSON.quote(text)
    }
}
