import HTTPTypes
import Hummingbird
import ServiceRuntime

/// Requires `X-API-Key` on every changing request (anything but GET and HEAD) when `API_KEY_ENABLED` is on.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headerName: HTTPField.Name { HTTPField.Name("X-API-Key")! }

    /// The key, or nil when the check is off.
    let apiKey: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let apiKey, request.method != .get, request.method != .head else {
            return try await next(request, context)
        }
        guard let presented = request.headers[Self.headerName] else {
            throw APIError(.unauthorized, "unauthorized", "this endpoint requires the X-API-Key header")
        }
        guard Self.constantTimeEqual(presented, apiKey) else {
            throw APIError(.unauthorized, "unauthorized", "the X-API-Key header does not match the configured API key")
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so timing does not reveal the key.
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
