import BrokerWire

/// One instrument to stream, and where it was before (after a restart), if anywhere.
struct FeedSubscription: Sendable, Hashable {
    var token: UInt32
    var mode: KiteMode
    var preferredAccountID: String? = nil
    var preferredConnectionID: Int? = nil
    /// Pinned: placed on this account or not at all (``FeedError/Code/accountUnavailable``).
    var requiredAccountID: String? = nil
    /// Put back at startup (``SubscriptionManager/restore(_:chunkSize:)``): not streamed since the previous run stopped.
    var restored = false
}

/// Where an instrument landed.
struct FeedPlacement: Sendable, Hashable {
    var token: UInt32
    var accountID: String
    var connectionID: Int
}

/// Why the feed could not do what was asked.
struct FeedError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; static values so that new ones can be added.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// Every connection of every account is full.
        static let capacityExhausted = Code("capacityExhausted")
        /// No account can stream (none configured, all forbidden or without a token).
        static let noUsableAccount = Code("noUsableAccount")
        /// The feed is not running (shutting down or not started).
        static let notRunning = Code("notRunning")
        /// The pinned account is full, cannot stream the instrument (no Dhan mapping) or its credentials were refused.
        static let accountUnavailable = Code("accountUnavailable")
        /// The pinned account is not configured.
        static let unknownAccount = Code("unknownAccount")
        /// No configured broker can stream the instrument (e.g. a Dhan-only deployment and no Dhan mapping).
        static let unplaceable = Code("unplaceable")
        var description: String { name }
    }

    var code: Code
    var message: String
    var description: String { message }
}

/// The state of one broker WebSocket connection, as `/health` shows it (fields without a value are left out).
struct FeedConnectionStatus: Sendable, Encodable {
    var accountID: String
    var connectionID: Int
    /// idle, connecting, streaming, stale (streaming but silent past ``FeedConfiguration/staleReportAfter``), backoff,
    /// stalled (the watchdog fired), credentials_rejected.
    var state: String
    var instruments: Int
    var capacity: Int
    /// The broker whose protocol the connection speaks: `kite` or `dhan`.
    var broker: String = Broker.kite.rawValue
    /// Unix seconds of the last message (tick, heartbeat or text).
    var lastMessageAt: Double?
    /// Milliseconds since the last message (or since the socket opened, if nothing came yet); nil while idle or never opened.
    var lastMessageAgeMilliseconds: Int? = nil
    /// Why a `backoff` or `credentials_rejected` connection waits: `http_429`, `http_403`, `http_<status>`, `dropped`,
    /// `stale`, `handshake_timeout`, `error`, `credentials_unreadable`.
    var reason: String? = nil
    /// Unix seconds of the next attempt (for `credentials_rejected`: the next re-read of the credentials).
    var nextAttemptAt: Double? = nil
    /// Milliseconds until then.
    var nextAttemptInMilliseconds: Int? = nil

    /// Whether this connection is delivering (streaming and not stale).
    var isStreaming: Bool { state == FeedConnectionPhase.streaming.rawValue }

    enum CodingKeys: String, CodingKey {
        case state, instruments, capacity, reason, broker
        case accountID = "account_id"
        case connectionID = "connection_id"
        case lastMessageAt = "last_message_at"
        case lastMessageAgeMilliseconds = "last_message_age_ms"
        case nextAttemptAt = "next_attempt_at"
        case nextAttemptInMilliseconds = "next_attempt_in_ms"
    }
}

/// The state of the whole feed.
struct FeedStatus: Sendable {
    var running: Bool
    var connections: [FeedConnectionStatus]
    var subscribedInstruments: Int
    var capacity: Int
    /// This instance's part in the lease on the broker sessions; nil where there is no lease (a test's stand-in feed).
    var lease: FeedLeaseStatus? = nil
}

/// What the subscription layer asks of the broker sessions. All-or-nothing per call: if there is not room for every
/// new token, nothing is placed and `.capacityExhausted` is thrown. Already-streaming tokens just change mode.
protocol FeedControlling: Sendable {
    func subscribe(_ subscriptions: [FeedSubscription]) async throws(FeedError) -> [FeedPlacement]
    func setMode(_ mode: KiteMode, tokens: [UInt32]) async
    func unsubscribe(_ tokens: [UInt32]) async
    func status() async -> FeedStatus
}
