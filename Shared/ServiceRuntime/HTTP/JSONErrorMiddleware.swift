import HTTPTypes
import Hummingbird
import SharedBasics

/// Answers every error with the services' JSON error body (``APIErrorBody``), also those that Hummingbird and NIO throw
/// themselves, which would otherwise be answered with no body: a bare `HTTPError` (an unmatched route is a 404), or
/// `NIOTooManyBytesError` from a `collect(upTo:)` over its limit (a 413). Errors that already are ``APIError`` pass
/// through.
///
/// Add it to a router before its routes, so that it wraps them too.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs the next responder and turns a bare `HTTPError` into an ``APIError`` with the same status and headers.
    /// - Parameters:
    ///   - request: The request.
    ///   - context: Its context.
    ///   - next: The rest of the chain.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw Self.apiError(error, request: request)
        } catch let error as any HTTPResponseError {
            throw Self.apiError(HTTPError(error.status), request: request)
        }
    }

    /// The ``APIError`` a bare `HTTPError` is answered as: a code from its status (`body_too_large`, `not_found`,
    /// `method_not_allowed`, `bad_request`, ...) and its message, or one that names the request.
    /// - Parameters:
    ///   - error: What Hummingbird threw.
    ///   - request: The request it was about.
    public static func apiError(_ error: HTTPError, request: Request) -> APIError {
        let code: APIError.Code
        var message = error.body.map { Excerpt.prefix($0, limit: 300) }
        switch error.status {
        case .contentTooLarge:
            code = "body_too_large"
            message = message ?? "the request body is larger than this endpoint accepts"
        case .notFound:
            code = "not_found"
            message = message ?? "no route for \(request.method) \(Excerpt.quoted(request.uri.path, limit: 120))"
        case .methodNotAllowed:
            code = "method_not_allowed"
        case .unauthorized:
            code = "unauthorized"
        case .unsupportedMediaType:
            code = "unsupported_media_type"
        default:
            code = error.status.code >= 500 ? "internal_error" : "bad_request"
        }
        return APIError(error.status, code, message ?? error.status.reasonPhrase, headers: error.headers)
    }
}
