import HTTPTypes
import ServiceRuntime
import SharedBasics

/// The rule for user ids (`user_id`): 1–64 characters from letters, digits and `_ - . @`, so that `user:{id}` is a
/// valid TickerService holder name and nothing an outsider sends is stored unbounded.
enum UserID {
    static let maxLength = 64

    /// The id, or a 422 that says what is wrong with it.
    /// - Parameter text: The id as sent; nil when missing.
    static func validated(_ text: String?) throws(APIError) -> String {
        guard let text, !text.isEmpty else {
            throw APIError(.unprocessableContent, .missingParameter, "user_id is required", field: "user_id")
        }
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".", "@": true
            default: false
            }
        }
        guard text.count <= maxLength, allowed else {
            throw APIError(
                .unprocessableContent, .invalidParameter,
                "user_id \(Excerpt.quoted(text)) must be 1-\(maxLength) characters from letters, digits and _ - . @", field: "user_id"
            )
        }
        return text
    }
}
