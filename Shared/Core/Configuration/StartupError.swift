/// Why a service could not start, printed as one line before a non-zero exit, e.g.
/// `ticker-service: cannot start: redis at 127.0.0.1:6390: connection refused`.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    /// The dependency or setting concerned, e.g. `redis`, `database`, `configuration`.
    public var dependency: String
    /// Where it was looked for (host:port, with no password), when that applies.
    public var address: String?
    /// What went wrong.
    public var reason: String

    /// Creates the error.
    /// - Parameters:
    ///   - dependency: The dependency or setting concerned.
    ///   - address: Where it was looked for, without secrets.
    ///   - reason: What went wrong.
    public init(dependency: String, address: String? = nil, reason: String) {
        self.dependency = dependency
        self.address = address
        self.reason = reason
    }

    public var description: String {
        if let address { return "\(dependency) at \(address): \(reason)" }
        return "\(dependency): \(reason)"
    }
}
