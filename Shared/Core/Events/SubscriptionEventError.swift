/// Why a payload is not a subscription event. Consumers count and log these (and dead-letter them); they are
/// never fatal.
public struct SubscriptionEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem; a struct so that cases can grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// Not valid JSON, or not a JSON object.
        public static let malformedJSON = Code(raw: "malformed_json")
        /// A required field is absent.
        public static let missingField = Code(raw: "missing_field")
        /// A field has the wrong type or an unusable value.
        public static let invalidField = Code(raw: "invalid_field")
        /// `event_type` names a kind we do not know.
        public static let unknownEventType = Code(raw: "unknown_event_type")
        public var description: String { raw }
    }

    /// The problem.
    public var code: Code
    /// The field concerned, when there is one.
    public var field: String?
    /// What was wrong, in words.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The problem.
    ///   - field: The field concerned.
    ///   - message: What was wrong.
    public init(_ code: Code, field: String? = nil, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "\(code): \(field): \(message)" }
        return "\(code): \(message)"
    }
}
