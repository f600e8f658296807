import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime
import SharedBasics
import SharedInstruments

/// `/api/v2/subscriptions*` (seed 004): the tiers' status, what they hold, on-demand Tier A subscriptions and the
/// audit log. Changes need `X-API-Key` when `API_KEY_ENABLED` is on.
struct TierSubscriptionsController<Context: RequestContext>: Sendable {
    let tiers: TierManager
    let registry: InstrumentRegistry
    let settings: TierConfiguration
    let tierB: TierBReport
    /// What a change must present (``BackendConfiguration/apiCredentials``).
    let credentials: [RequestCredential]
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>(credentials: credentials, openMethods: [.get, .head]))
        routes.get("api/v2/subscriptions/status", use: status)
        routes.get("api/v2/subscriptions/log", use: log)
        routes.get("api/v2/subscriptions", use: list)
        routes.post("api/v2/subscriptions", use: subscribe)
        routes.delete("api/v2/subscriptions/:token", use: unsubscribe)
        return routes
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> TierStatusBody {
        try QueryReader(request).requireOnly([])
        let counts = try await tiers.store.tierCounts()
        let feed = try? await tiers.ticker.feedStatus()
        let cap = feed.map { $0.capacity > 0 ? min(settings.cap, $0.capacity) : settings.cap } ?? settings.cap
        return TierStatusBody(
            tierACount: counts.a, tierBCount: counts.b, total: counts.a + counts.b, cap: cap, configuredCap: settings.cap,
            brokerCapacity: Nullable(feed?.capacity), brokerSubscriptions: Nullable(feed?.activeSubscriptions), connections: feed?.connections ?? [],
            tierB: tierB.body
        )
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> TierSubscriptionListBody {
        let query = QueryReader(request)
        try query.requireOnly(["tier", "user_id", "limit", "after"])
        let tier: Tier?
        switch try query.choice("tier", oneOf: "A, B") {
        case nil: tier = nil
        case let text?:
            guard let parsed = Tier(rawValue: text.uppercased()) else {
                throw APIError(.badRequest, .invalidParameter, "tier must be A or B, not \(Excerpt.quoted(text))", field: "tier")
            }
            tier = parsed
        }
        let userID = try query.choice("user_id", oneOf: "a user id").map { text throws(APIError) in try UserID.validated(text) }
        let limit = try Self.limit(query, default: 1_000, max: 25_000)
        let after = try query.int64("after") ?? 0
        let rows = try await tiers.store.list(tier: tier, userID: userID, afterToken: after, limit: limit)
        let bodies = rows.map { row in
            TierSubscriptionBody(
                instrumentToken: row.token, tradingsymbol: Nullable(registry.instrument(token: row.token)?.tradingsymbol),
                tier: row.holdings.contains { $0.tier == .b } ? .b : .a,
                holdings: row.holdings.map { .init(holder: $0.holder, source: $0.source, tier: $0.tier, userID: Nullable($0.userID)) },
                lastUsedAt: Nullable(row.lastUsed)
            )
        }
        return TierSubscriptionListBody(subscriptions: bodies, count: bodies.count, next: Nullable(bodies.count == limit ? bodies.last?.instrumentToken : nil))
    }

    @Sendable func subscribe(_ request: Request, context: Context) async throws -> EditedResponse<OnDemandBody> {
        let body = try await JSONRequestBody.decode(OnDemandRequest.self, from: request, shape: OnDemandRequest.shape)
        let userID = try body.userID.map { text throws(APIError) in try UserID.validated(text) }
        let token = try Self.token(body.instrumentToken)
        let holder = TierHolder.onDemand(userID)
        let result = try await tiers.hold(
            [token], holder: holder, source: TierSource.onDemand, tier: .a, userID: userID, mode: settings.tierAMode,
            actor: userID.map(TierHolder.user) ?? "api", reason: "on-demand subscribe"
        )
        let body2 = OnDemandBody(instrumentToken: token, holder: holder, tier: .a, changed: !result.added.isEmpty, evicted: result.evicted)
        return EditedResponse(status: result.added.isEmpty ? .ok : .created, response: body2)
    }

    @Sendable func unsubscribe(_ request: Request, context: Context) async throws -> OnDemandBody {
        guard let text = context.parameters.get("token"), let value = Int64(text) else {
            throw APIError(.badRequest, .invalidParameter, "the path's token must be an instrument token (a positive integer)", field: "token")
        }
        let token = try Self.token(value)
        let query = QueryReader(request)
        try query.requireOnly(["user_id"])
        let userID = try query.choice("user_id", oneOf: "a user id").map { text throws(APIError) in try UserID.validated(text) }
        let holder = TierHolder.onDemand(userID)
        let released = try await tiers.release(
            holder: holder, source: TierSource.onDemand, tokens: [token], actor: userID.map(TierHolder.user) ?? "api", reason: "on-demand unsubscribe"
        )
        guard !released.isEmpty else {
            throw APIError(.notFound, "not_subscribed", "instrument \(token) has no on-demand subscription of \(holder)")
        }
        return OnDemandBody(instrumentToken: token, holder: holder, tier: .a, changed: true, evicted: [])
    }

    @Sendable func log(_ request: Request, context: Context) async throws -> SubscriptionLogBody {
        let query = QueryReader(request)
        try query.requireOnly(["token", "since", "before", "limit"])
        let token = try query.int64("token")
        let since = try Self.time(query, "since")
        let before = try query.nonEmpty("before").map { text throws(APIError) -> Int64 in
            guard let id = Int64(text), id > 0 else {
                throw APIError(.badRequest, .invalidParameter, "before must be a log entry id (a positive integer)", field: "before")
            }
            return id
        }
        let limit = try Self.limit(query, default: 100, max: 1_000)
        let entries = try await tiers.store.logEntries(token: token, since: since, beforeID: before, limit: limit)
        return SubscriptionLogBody(
            entries: entries.map(SubscriptionLogEntryBody.init), count: entries.count, next: Nullable(entries.count == limit ? entries.last?.id : nil)
        )
    }

    // MARK: Input

    static func token(_ value: Int64) throws(APIError) -> Int64 {
        guard value > 0, value <= Int64(UInt32.max) else {
            throw APIError(.unprocessableContent, .invalidParameter, "instrument_token must be a positive integer up to \(UInt32.max), not \(value)", field: "instrument_token")
        }
        return value
    }

    static func limit(_ query: QueryReader, default defaultValue: Int, max: Int) throws(APIError) -> Int {
        try query.int("limit", default: defaultValue, in: 1...max)
    }

    /// An ISO-8601 time (`2026-02-26T09:15:00Z`, `2026-02-26T09:15:00+05:30`) or a day (`2026-02-26`, `26FEB2026`,
    /// midnight IST).
    static func time(_ query: QueryReader, _ name: String) throws(APIError) -> Date? {
        guard let text = try query.nonEmpty(name) else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let expiry = IndianMarket.parseExpiry(text), let day = IndianMarket.parseDay(expiry) { return IndianMarket.startOfDay(day) }
        throw APIError(
            .badRequest, .invalidParameter, "\(name) must be an ISO-8601 time or a day (2026-02-26 or 26FEB2026), not \(Excerpt.quoted(text))", field: name
        )
    }
}
