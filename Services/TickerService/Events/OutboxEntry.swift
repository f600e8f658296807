/// One unpublished outbox row, as the relay publishes it.
struct OutboxEntry: Sendable, Equatable {
    /// The row id, which is the event's `sequence`.
    var id: Int64
    var eventID: String
    var eventType: String
    /// Exactly `SubscriptionEventCodec.encode(event)`.
    var payload: String
}
