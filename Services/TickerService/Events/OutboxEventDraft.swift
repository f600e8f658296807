import Shared

/// A subscription event to be written to the outbox; the outbox gives it its `event_id`, `sequence` and `timestamp`.
struct OutboxEventDraft: Sendable, Equatable {
    var kind: SubscriptionEvent.Kind
    var token: Int64
    var tradingsymbol: String?
    var segment: String?
    /// The instrument's effective mode.
    var mode: SubscriptionMode?
    /// The broker account serving it.
    var accountID: String?
}
