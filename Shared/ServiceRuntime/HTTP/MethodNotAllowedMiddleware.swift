import HTTPTypes
import Hummingbird
import SharedBasics

/// Tells "no such path" from "no such method on this path": a request that no route matches gets 405
/// `method_not_allowed` with an `Allow` header when its path is a registered route's path, else 404 `not_found`, both
/// with the JSON error body (RFC 9110 §15.5.6 requires `Allow` on a 405).
///
/// Built from the router's routes, so add it with ``Hummingbird/Router/addMethodNotAllowedFallback()`` after the last
/// route: a middleware added then wraps only the router's not-found responder, so matched requests never pass here.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// One registered path, split into segments, and the methods routed on it.
    struct Route: Sendable {
        /// Literal segments, `nil` for a capture or `*`; `recursive` when it ends in `**`.
        var segments: [String?]
        var recursive: Bool
        var methods: Set<String>
    }

    let routes: [Route]

    /// Creates the middleware from a router's routes.
    /// - Parameter routes: Every route as method and path, e.g. from `router.routes`.
    public init(routes: [(method: HTTPRequest.Method, path: String)]) {
        var byPath: [String: Route] = [:]
        for (method, path) in routes {
            var route = byPath[path] ?? Self.route(path)
            route.methods.insert(method.rawValue)
            byPath[path] = route
        }
        self.routes = Array(byPath.values)
    }

    /// The methods routed on a path, sorted (the `Allow` header's value is their comma-separated list); empty when no
    /// route has the path.
    ///
    /// When several registered paths match, only the most specific count, as the router resolves them: a literal
    /// segment wins over a capture at the first segment where they differ, so `/subscriptions/release` (POST) is not
    /// also offered `/subscriptions/{token}`'s GET and DELETE.
    /// - Parameter path: A request path, e.g. `/subscriptions/150`.
    public func allowedMethods(path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let matching = routes.filter { Self.matches($0, parts) }
        guard let best = matching.map(Self.specificity).max(by: Self.lessSpecific) else { return [] }
        var methods = Set<String>()
        for route in matching where Self.specificity(route) == best { methods.formUnion(route.methods) }
        return methods.sorted()
    }

    /// Which segments of a route are literal, in order; compared left to right, a literal beats a capture.
    static func specificity(_ route: Route) -> [Bool] { route.segments.map { $0 != nil } + [!route.recursive] }

    static func lessSpecific(_ lhs: [Bool], _ rhs: [Bool]) -> Bool {
        for (left, right) in zip(lhs, rhs) where left != right { return !left }
        return lhs.count < rhs.count
    }

    /// Passes the request on; when it comes back not found (no route matched), answers 405 with `Allow` if another
    /// method is routed on the path.
    /// - Parameters:
    ///   - request: The request.
    ///   - context: Its context.
    ///   - next: The rest of the chain (the router's not-found responder).
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else { throw JSONErrorMiddleware<Context>.apiError(error, request: request) }
            throw APIError(
                .methodNotAllowed, "method_not_allowed",
                "\(Excerpt.quoted(request.method.rawValue, limit: 20)) is not allowed on \(Excerpt.quoted(request.uri.path, limit: 120)); allowed: \(allowed.joined(separator: ", "))",
                headers: [.allow: allowed.joined(separator: ", ")]
            )
        }
    }

    static func route(_ path: String) -> Route {
        var segments: [String?] = []
        var recursive = false
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "**" {
                recursive = true
                break
            }
            let isVariable = part.hasPrefix(":") || part.hasPrefix("{") || part.contains("*")
            segments.append(isVariable ? nil : String(part))
        }
        return Route(segments: segments, recursive: recursive, methods: [])
    }

    static func matches(_ route: Route, _ parts: [String]) -> Bool {
        if route.recursive ? parts.count < route.segments.count : parts.count != route.segments.count { return false }
        for (segment, part) in zip(route.segments, parts) where segment != nil && segment != part { return false }
        return true
    }
}

extension Router {
    /// Adds ``MethodNotAllowedMiddleware`` built from the routes registered so far; call it after the last route.
    @discardableResult
    public func addMethodNotAllowedFallback() -> Self {
        add(middleware: MethodNotAllowedMiddleware<Context>(routes: routes.map { (method: $0.method, path: $0.path.description) }))
    }
}
