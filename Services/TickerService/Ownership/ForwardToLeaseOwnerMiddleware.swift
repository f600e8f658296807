import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// On an instance that does not hold the broker sessions' lease, sends every request but `/health` and `/metrics` to
/// the instance that does, and answers with its answer: so a change made through any instance is applied on the
/// broker at once, by the one process that may touch the broker sessions, with its placement, capacity checks, list
/// cache and history pacing. `/health` and `/metrics` describe the instance asked.
///
/// A request already forwarded once is not forwarded again (the lease moved under it): it gets 503, as do requests
/// while no instance holds the lease or the owner does not answer. The API key is checked by the owner, which receives
/// the request's headers unchanged.
struct ForwardToLeaseOwnerMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Marks a forwarded request (its value: the forwarding instance).
    static var forwardedHeader: HTTPField.Name { HTTPField.Name("X-Ticker-Forwarded-By")! }
    /// Paths every instance answers itself.
    static var localPaths: Set<String> { ["/health", "/metrics"] }

    let feed: LeasedFeed
    let httpClient: HTTPClient
    let logger: Logger
    /// The largest request body forwarded (a batch subscribe of every instrument fits many times over).
    var maxRequestBytes = 16 << 20
    /// How long the owner may take to answer (`/history` may wait its turn at the broker).
    var timeout: TimeAmount = .seconds(120)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard feed.manager == nil, !Self.localPaths.contains(request.uri.path) else { return try await next(request, context) }
        let retryLater: HTTPFields = [.retryAfter: "2"]
        if request.headers[Self.forwardedHeader] != nil {
            throw APIError(
                .serviceUnavailable, "feed_owner_moved",
                "the request was forwarded to this instance, which no longer holds the broker sessions; retry", headers: retryLater
            )
        }
        guard let owner = feed.owner, owner.owner != feed.instanceID else {
            throw APIError(
                .serviceUnavailable, "no_feed_owner",
                "no TickerService instance holds the broker sessions right now (the lease is being taken over); retry in a few seconds",
                headers: retryLater
            )
        }
        var forwarded = HTTPClientRequest(url: owner.ownerURL + request.uri.string)
        forwarded.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            forwarded.headers.add(name: field.name.rawName, value: field.value)
        }
        forwarded.headers.add(name: Self.forwardedHeader.rawName, value: feed.instanceID)
        let body = try await request.body.collect(upTo: maxRequestBytes)
        if body.readableBytes > 0 || request.method == .post || request.method == .put || request.method == .patch {
            forwarded.body = .bytes(body)
        }
        let answer: HTTPClientResponse
        do {
            answer = try await httpClient.execute(forwarded, timeout: timeout, logger: logger)
        } catch {
            logger.warning(
                "the instance holding the broker sessions did not answer a forwarded request",
                metadata: ["feed.owner": "\(owner.owner)", "http.path": "\(request.uri.path)", "error": "\(error)"]
            )
            throw APIError(
                .serviceUnavailable, "feed_owner_unreachable",
                "the TickerService instance holding the broker sessions (\(owner.owner)) did not answer; retry in a few seconds",
                headers: retryLater
            )
        }
        var headers = HTTPFields()
        for (name, value) in answer.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase), headers: headers,
            body: ResponseBody(asyncSequence: answer.body)
        )
    }

    /// Headers that describe one hop, not the request (RFC 9110 §7.6.1), and those the client recomputes.
    static var hopByHop: Set<String> {
        ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"]
    }
}
