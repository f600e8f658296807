/// An error from the Redis wrapper.
///
/// Codes are static values rather than enum cases so that new ones can be added without breaking callers.
/// `message` always names the server address where one is involved and never contains a password.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The URL given to ``RedisConfiguration/init(url:connectTimeout:commandTimeout:)`` is malformed.
        public static let invalidURL = Code("invalidURL")
        /// The TCP connection could not be established (refused, unreachable, name not resolved, connect timed out).
        public static let connectionFailed = Code("connectionFailed")
        /// `AUTH` or `SELECT` was rejected while connecting.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The server did not answer within the command timeout; the connection is dropped.
        public static let timeout = Code("timeout")
        /// Reading or writing the socket failed, or the server closed the connection; the connection is dropped.
        public static let io = Code("io")
        /// The server answered with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
        public static let server = Code("server")
        /// The reply did not have the shape the command promises.
        public static let protocolError = Code("protocolError")
        /// The client or subscription was closed.
        public static let closed = Code("closed")
        /// The calling task was cancelled while its command was in flight; the connection is dropped.
        public static let cancelled = Code("cancelled")

        /// The code's name, e.g. `connectionFailed`.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the Redis address where relevant, e.g. `redis at 127.0.0.1:6390: connection refused`.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation without secrets.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message (it already names the address), so that logging the error prints something useful.
    public var description: String { message }

    /// For server error replies, the first word of the reply (`ERR`, `WRONGTYPE`, `BUSYGROUP`, `NOGROUP`...); nil otherwise.
    public var serverErrorPrefix: String? {
        guard code == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }
}
