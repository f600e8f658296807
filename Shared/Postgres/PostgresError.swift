/// An error from the PostgreSQL layer.
///
/// Errors are a struct with a growable set of static codes (as `PSQLError.Code` in postgres-nio), so
/// callers switch on ``code`` and new codes never break them. Messages name the target as
/// `host=… port=… dbname=… user=…` and never contain a password.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection string or another configuration value is invalid (bad syntax, unknown key, pool size < 1).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A new connection could not be established (unreachable server, authentication, unknown database).
        public static let connectionFailed = Code("connectionFailed")
        /// An established connection broke while a statement was in flight; the statement may or may not have run.
        public static let connectionLost = Code("connectionLost")
        /// The server rejected a statement; ``PostgresError/sqlState`` tells why.
        public static let server = Code("server")
        /// The client was closed.
        public static let poolClosed = Code("poolClosed")
        /// No connection became free within the configured checkout timeout.
        public static let poolTimeout = Code("poolTimeout")
        /// A column value could not be decoded into the requested type, or a column is missing or NULL.
        public static let decoding = Code("decoding")
        /// A bound value cannot be sent (e.g. text containing a NUL byte, too many parameters).
        public static let encoding = Code("encoding")
        /// A `COPY … FROM STDIN` failed.
        public static let copyFailed = Code("copyFailed")
        /// A migration failed, was changed after it was applied, or the migration files are inconsistent.
        public static let migrationFailed = Code("migrationFailed")

        /// The code's name.
        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation; names the target, never the password.
    public var message: String
    /// The server's SQLSTATE (e.g. `23505` unique violation), when the server reported one.
    public var sqlState: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: A human-readable explanation (must not contain secrets).
    ///   - sqlState: The server's SQLSTATE, if any.
    public init(code: Code, message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// `PostgresError.code: message (SQLSTATE xxxxx)`.
    public var description: String {
        if let sqlState { return "PostgresError.\(code): \(message) (SQLSTATE \(sqlState))" }
        return "PostgresError.\(code): \(message)"
    }

    /// Whether the failure is about reaching the server (it went away or could not be reached), as opposed to a
    /// problem with the statement itself. Retrying later may help; the pool already replaces broken connections.
    public var isConnectionError: Bool { code == .connectionFailed || code == .connectionLost }
}
