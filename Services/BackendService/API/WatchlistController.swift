import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime
import SharedInstruments

/// `GET /api/v2/watchlist`, `POST /api/v2/watchlist/add`, `POST /api/v2/watchlist/remove` (seed 004). Changes need
/// `X-API-Key` when `API_KEY_ENABLED` is on.
struct WatchlistController<Context: RequestContext>: Sendable {
    let watchlists: WatchlistService
    let quotes: LiveQuotes
    /// What a change must present (``BackendConfiguration/apiCredentials``).
    let credentials: [RequestCredential]
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>(credentials: credentials, openMethods: [.get, .head]))
        routes.get("api/v2/watchlist", use: show)
        routes.post("api/v2/watchlist/add", use: add)
        routes.post("api/v2/watchlist/remove", use: remove)
        return routes
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> WatchlistBody {
        let query = QueryReader(request)
        try query.requireOnly(["user_id"])
        let userID = try UserID.validated(query.nonEmpty("user_id"))
        let entries = try await watchlists.store.entries(userID: userID)
        let holder = TierHolder.user(userID)
        let bySource = try await watchlists.tiers.store.heldCountsBySource(holder: holder)
        let quoted = entries.compactMap { entry -> Int64? in
            entry.kind == .instrument ? entry.instrumentToken : watchlists.registry.priceInstrument(underlying: entry.symbol)?.instrumentToken
        }
        let live = (try? await quotes.quotes(quoted)) ?? [:]
        let bodies = entries.map { entry in
            let token = entry.kind == .instrument ? entry.instrumentToken : watchlists.registry.priceInstrument(underlying: entry.symbol)?.instrumentToken
            let instruments = entry.kind == .instrument ? 1 : bySource[entry.source] ?? 0
            return WatchlistEntryBody(entry, instruments: instruments, quote: token.flatMap { live[$0] })
        }
        // Viewing a watchlist is a use of everything it holds (the cap evicts what nobody looks at).
        try? await watchlists.tiers.store.touch(holder: holder)
        let evictions = try await watchlists.tiers.store.evictions(userID: userID).map {
            EvictionBody(instrumentToken: $0.instrumentToken, source: $0.source, reason: $0.reason, evictedAt: $0.evictedAt)
        }
        return WatchlistBody(userID: userID, entries: bodies, count: bodies.count, instruments: bySource.values.reduce(0, +), evictions: evictions)
    }

    @Sendable func add(_ request: Request, context: Context) async throws -> EditedResponse<WatchlistChangeBody> {
        let body = try await JSONRequestBody.decode(WatchlistChangeRequest.self, from: request, shape: WatchlistChangeRequest.shape)
        let userID = try UserID.validated(body.userID)
        let change = try await watchlists.add(userID: userID, symbol: body.symbol, instrumentToken: body.instrumentToken)
        return EditedResponse(status: change.changed ? .created : .ok, response: try await answer(userID, change))
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> WatchlistChangeBody {
        let body = try await JSONRequestBody.decode(WatchlistChangeRequest.self, from: request, shape: WatchlistChangeRequest.shape)
        let userID = try UserID.validated(body.userID)
        return try await answer(userID, try await watchlists.remove(userID: userID, symbol: body.symbol, instrumentToken: body.instrumentToken))
    }

    private func answer(_ userID: String, _ change: WatchlistService.Change) async throws -> WatchlistChangeBody {
        WatchlistChangeBody(
            userID: userID, entry: WatchlistEntryBody(change.entry, instruments: change.instruments.count, quote: nil), changed: change.changed,
            instruments: change.instruments, evicted: change.evicted
        )
    }
}
