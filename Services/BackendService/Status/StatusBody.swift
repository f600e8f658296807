import Foundation
import ServiceRuntime
import SharedJSON

/// `GET /status/data`: everything the status page shows, in one answer (docs/operations.md, "Status page").
struct StatusBody: JSONResponseBody, Sendable {
    /// TickerService as its `/health` describes itself (connections, subscriptions), or why it could not be asked.
    struct Ticker: Encodable, Sendable {
        var reachable: Bool
        /// Its `/health` body, as it is.
        var health: Nullable<JSONValue>
        var error: Nullable<String>
    }

    /// One consumer group's backlog.
    struct StreamGroup: Encodable, Sendable {
        var stream: String
        var group: String
        var lag: Nullable<Int>
        var pending: Int
        var consumers: Int
    }

    /// One point of the throughput plots.
    struct ThroughputPoint: Encodable, Sendable {
        var at: Date
        var ticksPerSecond: Nullable<Double>
        var eventsPerSecond: Nullable<Double>

        enum CodingKeys: String, CodingKey {
            case at
            case ticksPerSecond = "ticks_per_second"
            case eventsPerSecond = "events_per_second"
        }
    }

    struct Throughput: Encodable, Sendable {
        var intervalSeconds: Double
        var samples: [ThroughputPoint]

        enum CodingKeys: String, CodingKey {
            case samples
            case intervalSeconds = "interval_seconds"
        }
    }

    var generatedAt: Date
    var environment: String
    /// BackendService's own dependency checks: `"ok"` or the error text.
    var dependencies: [String: String]
    var ticker: Ticker
    var streams: [StreamGroup]
    /// Subscription events TickerService has not yet handed to Redis (null when the database did not answer).
    var outboxPending: Nullable<Int>
    var backfill: BackfillStatusBody
    var throughput: Throughput

    enum CodingKeys: String, CodingKey {
        case environment, dependencies, ticker, streams, backfill, throughput
        case generatedAt = "generated_at"
        case outboxPending = "outbox_pending"
    }
}
