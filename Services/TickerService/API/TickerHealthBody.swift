import ServiceRuntime

/// `GET /health`'s body (docs/openapi/ticker-service.yaml, `TickerHealth`).
struct TickerHealthBody: JSONResponseBody, Sendable {
    struct Ticker: Encodable, Sendable {
        var running: Bool
        /// Instruments with at least one holder (the table).
        var activeSubscriptions: Int
        /// Instruments the feed has placed.
        var streamingInstruments: Int
        var capacity: Int
        var connections: [FeedConnectionStatus]
        /// Present only when an account's credentials were refused.
        var forbiddenAccounts: [String]?
        /// Whether every subscribed instrument is on a `streaming` connection (true when nothing is subscribed).
        var feedStreaming: Bool
        /// Events in the outbox not yet handed to Redis; null when the database did not answer.
        var outboxPending: Int?
        /// Owner or standby of the broker sessions' lease (absent without a lease).
        var feedLease: FeedLeaseStatus? = nil

        enum CodingKeys: String, CodingKey {
            case running, capacity, connections
            case feedStreaming = "feed_streaming"
            case activeSubscriptions = "active_subscriptions"
            case streamingInstruments = "streaming_instruments"
            case forbiddenAccounts = "forbidden_accounts"
            case outboxPending = "outbox_pending"
            case feedLease = "feed_lease"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(running, forKey: .running)
            try container.encode(activeSubscriptions, forKey: .activeSubscriptions)
            try container.encode(streamingInstruments, forKey: .streamingInstruments)
            try container.encode(capacity, forKey: .capacity)
            try container.encode(connections, forKey: .connections)
            try container.encodeIfPresent(forbiddenAccounts, forKey: .forbiddenAccounts)
            try container.encode(feedStreaming, forKey: .feedStreaming)
            try container.encode(outboxPending, forKey: .outboxPending)  // null, not absent, when unknown
            try container.encodeIfPresent(feedLease, forKey: .feedLease)
        }
    }

    struct InstrumentRegistry: Encodable, Sendable {
        /// `ok`, `empty` or `unavailable`.
        var status: String
        var cachedInstruments: Int

        enum CodingKeys: String, CodingKey {
            case status
            case cachedInstruments = "cached_instruments"
        }
    }

    /// Each check's `"ok"` or error text under its name, beside `instrument_registry`.
    struct Dependencies: Encodable, Sendable {
        var checks: [String: String]
        var instrumentRegistry: InstrumentRegistry

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: NameKey.self)
            for (name, text) in checks { try container.encode(text, forKey: NameKey(name)) }
            try container.encode(instrumentRegistry, forKey: NameKey("instrument_registry"))
        }
    }

    var status: HealthStatus
    var environment: String
    var ticker: Ticker
    var dependencies: Dependencies
}

/// A coding key named at run time (a dependency check's name).
struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
