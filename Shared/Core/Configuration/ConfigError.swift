/// A configuration value that is missing or cannot be used; the message names the key and says why.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is; a struct so that cases can grow.
    public struct Code: Hashable, Sendable {
        let raw: String
        /// The key is required and has no value.
        public static let missing = Code(raw: "missing")
        /// The value does not parse as the key's type.
        public static let invalid = Code(raw: "invalid")
        /// The `.env` file exists but cannot be read or parsed.
        public static let dotEnvFile = Code(raw: "dotEnvFile")
    }

    /// The problem.
    public var code: Code
    /// The key concerned (or the file name for `.dotEnvFile`).
    public var key: String
    /// Why the value was refused, in words a user can act on.
    public var reason: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The problem.
    ///   - key: The key (or file) concerned.
    ///   - reason: Why, in words a user can act on.
    public init(_ code: Code, key: String, reason: String) {
        self.code = code
        self.key = key
        self.reason = reason
    }

    public var description: String { "invalid configuration: \(key): \(reason)" }
}
