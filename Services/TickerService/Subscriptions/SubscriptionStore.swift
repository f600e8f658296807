import TickerAPIModel
/// Storage of subscriptions and their holders. Writes go with their outbox events in one transaction.
protocol SubscriptionStore: Sendable {
    /// One subscription with its holders, or nil when the instrument was never subscribed.
    func subscription(token: Int64) async throws -> SubscriptionRecord?
    /// The stored subscriptions among `tokens`, by token.
    func subscriptions(tokens: [Int64]) async throws -> [Int64: SubscriptionRecord]
    /// The subscriptions (only active ones when `activeOnly`) in token order, in one query: those after the token
    /// `after` when given, at most `limit` when given.
    func list(activeOnly: Bool, after: Int64?, limit: Int?) async throws -> [SubscriptionRecord]
    /// How many subscriptions are active.
    func activeCount() async throws -> Int
    /// Writes subscription rows, holder changes and outbox events in ONE transaction.
    /// - Returns: The subscriptions as stored after the change, by token.
    func apply(_ writes: [SubscriptionWrite], events: [OutboxEventDraft]) async throws -> [Int64: SubscriptionRecord]
    /// Records where the feed placed already-active subscriptions after a restart (no event: nothing changed for consumers).
    func recordPlacements(_ placements: [(token: Int64, accountID: String, connectionID: Int)]) async throws
}
