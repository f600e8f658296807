import ServiceRuntime

/// `GET /api/v2/ws/stats`: the quote stream's clients and counters since this process started.
///
/// `{"clients":N,"max_clients":N,"subscribed_tokens":N,"messages_sent":N,"updates_conflated":N,"ticks_read":N,
/// "clients_refused":N}`
struct StreamStatsBody: Codable, Sendable, Equatable, JSONResponseBody {
    /// Clients connected now.
    var clients: Int
    /// `STREAM_MAX_CLIENTS`.
    var maxClients: Int
    /// Distinct instruments some client streams now.
    var subscribedTokens: Int
    /// WebSocket messages sent to clients (replies and quote batches).
    var messagesSent: Int
    /// Quotes replaced in a client's queue by a newer one before they were sent.
    var updatesConflated: Int
    /// Tick entries read from `{prefix}:ticks`.
    var ticksRead: Int
    /// Connections closed at once because `STREAM_MAX_CLIENTS` were connected.
    var clientsRefused: Int

    enum CodingKeys: String, CodingKey {
        case clients
        case maxClients = "max_clients"
        case subscribedTokens = "subscribed_tokens"
        case messagesSent = "messages_sent"
        case updatesConflated = "updates_conflated"
        case ticksRead = "ticks_read"
        case clientsRefused = "clients_refused"
    }
}
