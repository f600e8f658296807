import HTTPTypes
import Hummingbird

/// A header and the secret it must carry, for ``RequestKeyMiddleware``.
public struct RequestCredential: Sendable {
    /// `X-API-Key`.
    public static var apiKeyHeader: HTTPField.Name { HTTPField.Name("X-API-Key")! }

    /// The header, e.g. `X-API-Key`.
    public var header: HTTPField.Name
    /// The secret; an empty one is ignored.
    public var secret: String

    /// Creates a credential.
    /// - Parameters:
    ///   - header: The header that carries it.
    ///   - secret: Its value.
    public init(header: HTTPField.Name, secret: String) {
        self.header = header
        self.secret = secret
    }
}

/// Requires one of a set of shared secrets, each in its own header (e.g. `X-API-Key` with the API key, or
/// `X-Webhook-Secret` with the webhook secret), on the requests of the routes it is added to: every method, or every
/// method but those left open (TickerService's subscriptions: reads are open, changes need the key). With no secret
/// configured it lets everything through (authentication off).
///
/// Secrets are compared in constant time and never logged or echoed.
public struct RequestKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let credentials: [RequestCredential]
    let openMethods: Set<HTTPRequest.Method>

    /// Creates the middleware.
    /// - Parameters:
    ///   - credentials: Every header/secret pair that is accepted; none (or only empty secrets) means open.
    ///   - openMethods: Methods that need no secret, e.g. `[.get, .head]`; none by default.
    public init(credentials: [RequestCredential], openMethods: Set<HTTPRequest.Method> = []) {
        self.credentials = credentials.filter { !$0.secret.isEmpty }
        self.openMethods = openMethods
    }

    /// Requires the API key (`X-API-Key`) when there is one.
    /// - Parameters:
    ///   - apiKey: The key, nil when `API_KEY_ENABLED` is off.
    ///   - openMethods: Methods that need no key.
    public static func apiKey(_ apiKey: String?, openMethods: Set<HTTPRequest.Method> = []) -> Self {
        Self(credentials: apiKey.map { [RequestCredential(header: RequestCredential.apiKeyHeader, secret: $0)] } ?? [], openMethods: openMethods)
    }

    /// Whether any secret is required.
    public var isEnabled: Bool { !credentials.isEmpty }

    /// Why a request may not pass, for routes that answer in their own error shape; nil when it may.
    /// - Parameter request: The request.
    /// - Returns: The 401's message, e.g. "this endpoint requires the X-API-Key header".
    public func rejection(of request: Request) -> String? {
        guard isEnabled, !openMethods.contains(request.method) else { return nil }
        var presented = false
        for credential in credentials {
            guard let value = request.headers[credential.header] else { continue }
            presented = true
            if Self.constantTimeEqual(value, credential.secret) { return nil }
        }
        let names = Array(Set(credentials.map(\.header.rawName))).sorted().joined(separator: " or ")
        return presented ? "the \(names) header does not match the configured secret" : "this endpoint requires the \(names) header"
    }

    /// Answers 401 `unauthorized` unless one of the headers carries its secret.
    /// - Parameters:
    ///   - request: The request.
    ///   - context: Its context.
    ///   - next: The rest of the chain.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let message = rejection(of: request) { throw APIError(.unauthorized, "unauthorized", message) }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so timing does not reveal the secret.
    /// - Parameters:
    ///   - lhs: One value.
    ///   - rhs: The other.
    public static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
