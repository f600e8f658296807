import Foundation
import ServiceRuntime

/// `GET /api/v2/subscriptions/status`.
struct TierStatusBody: JSONResponseBody, Sendable {
    var tierACount: Int
    var tierBCount: Int
    var total: Int
    /// The cap in force (`SUBSCRIPTION_CAP`, never above the brokers' capacity).
    var cap: Int
    var configuredCap: Int
    /// What TickerService's connections can carry; null when it did not answer.
    var brokerCapacity: Nullable<Int>
    /// Instruments TickerService streams for any holder (the tiers' and others', such as `api`).
    var brokerSubscriptions: Nullable<Int>
    var connections: [TickerConnection]
    /// What the Tier B preload did.
    var tierB: TierBReportBody

    enum CodingKeys: String, CodingKey {
        case total, cap, connections
        case tierB = "tier_b"
        case tierACount = "tier_a_count"
        case tierBCount = "tier_b_count"
        case configuredCap = "configured_cap"
        case brokerCapacity = "broker_capacity"
        case brokerSubscriptions = "broker_subscriptions"
    }
}

/// One held instrument of `GET /api/v2/subscriptions`.
struct TierSubscriptionBody: Encodable, Sendable {
    struct Holding: Encodable, Sendable {
        var holder: String
        var source: String
        var tier: Tier
        var userID: Nullable<String>

        enum CodingKeys: String, CodingKey {
            case holder, source, tier
            case userID = "user_id"
        }
    }

    var instrumentToken: Int64
    var tradingsymbol: Nullable<String>
    /// B when any holding is Tier B (never evicted), else A.
    var tier: Tier
    var holdings: [Holding]
    var lastUsedAt: Nullable<Date>

    enum CodingKeys: String, CodingKey {
        case tradingsymbol, tier, holdings
        case instrumentToken = "instrument_token"
        case lastUsedAt = "last_used_at"
    }
}

/// `GET /api/v2/subscriptions?tier=&user_id=&limit=&after=`.
struct TierSubscriptionListBody: JSONResponseBody, Sendable {
    var subscriptions: [TierSubscriptionBody]
    var count: Int
    /// The `after` of the next page; null on the last one.
    var next: Nullable<Int64>
}

/// `POST /api/v2/subscriptions`: `{"instrument_token", "user_id"?}`.
struct OnDemandRequest: Decodable, Sendable {
    static let shape = #"{"instrument_token": integer, "user_id": string (optional)}"#
    var instrumentToken: Int64
    var userID: String?

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case userID = "user_id"
    }
}

/// The answer of an on-demand subscribe or unsubscribe.
struct OnDemandBody: JSONResponseBody, Sendable {
    var instrumentToken: Int64
    var holder: String
    var tier: Tier
    /// subscribe: whether no tier held it before; unsubscribe: whether this holder let go.
    var changed: Bool
    var evicted: [Int64]

    enum CodingKeys: String, CodingKey {
        case holder, tier, changed, evicted
        case instrumentToken = "instrument_token"
    }
}

/// One audit-log entry.
struct SubscriptionLogEntryBody: Encodable, Sendable {
    var id: Int64
    var instrumentToken: Nullable<Int64>
    var action: String
    var holder: Nullable<String>
    var tier: Nullable<String>
    var reason: String
    var actor: String
    var at: Date

    enum CodingKeys: String, CodingKey {
        case id, action, holder, tier, reason, actor, at
        case instrumentToken = "instrument_token"
    }

    init(_ entry: SubscriptionLogEntry) {
        id = entry.id
        instrumentToken = Nullable(entry.instrumentToken)
        action = entry.action.rawValue
        holder = Nullable(entry.holder)
        tier = Nullable(entry.tier?.rawValue)
        reason = entry.reason
        actor = entry.actor
        at = entry.at
    }
}

/// `GET /api/v2/subscriptions/log`.
struct SubscriptionLogBody: JSONResponseBody, Sendable {
    var entries: [SubscriptionLogEntryBody]
    var count: Int
    /// The `before` of the next (older) page; null on the last one.
    var next: Nullable<Int64>
}

/// `POST /api/v2/admin/eod-cleanup` and the scheduled run.
struct EODCleanupBody: JSONResponseBody, Sendable {
    var tradingDay: String
    var trigger: String
    /// Whether this call did the cleanup (false when today's already ran and the call did not force it).
    var ran: Bool
    var released: Int
    var watchlistsCleared: Int

    enum CodingKeys: String, CodingKey {
        case trigger, ran, released
        case tradingDay = "trading_day"
        case watchlistsCleared = "watchlists_cleared"
    }
}

/// `POST /api/v2/admin/clear-watchlists`.
struct ClearWatchlistsBody: JSONResponseBody, Sendable {
    var entriesRemoved: Int

    enum CodingKeys: String, CodingKey {
        case entriesRemoved = "entries_removed"
    }
}
