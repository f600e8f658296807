import HTTPTypes
import Hummingbird
import ServiceRuntime

/// `POST /admin/rebalance`: moves instruments make-before-break until every connection carries its fair share
/// (``FeedManager/rebalance(overlap:)``), and answers what moved. Requires `X-API-Key` when `API_KEY_ENABLED` is on.
struct RebalanceController<Context: RequestContext>: Sendable {
    /// The real feed of this instance's lease term; nil when a test runs the service over a stand-in (or, for a
    /// moment, when the lease just moved: a standby forwards this request to the owner).
    let feed: @Sendable () -> FeedManager?
    let overlap: Duration
    /// `X-API-Key`, nil when `API_KEY_ENABLED` is off.
    let apiKey: String?

    struct Answer: JSONResponseBody, Sendable {
        var result: FeedRebalanceResult

        func encode(to encoder: any Encoder) throws { try result.encode(to: encoder) }
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>.apiKey(apiKey))
        routes.post("admin/rebalance", use: rebalance)
        return routes
    }

    @Sendable func rebalance(_ request: Request, context: Context) async throws -> Answer {
        guard let feed = feed() else { throw APIError(.serviceUnavailable, "feed_unavailable", "this process runs no broker feed to rebalance") }
        guard let result = await feed.rebalance(overlap: overlap) else {
            throw APIError(.conflict, "rebalance_running", "a rebalance is already moving instruments; try again when it has finished")
        }
        return Answer(result: result)
    }
}
