import ServiceRuntime
import TickerAPIModel

/// `POST /subscriptions` in batch form: the subscriptions and which were created.
struct SubscriptionBatchJSON: JSONResponseBody, Sendable {
    var subscriptions: [SubscriptionRecord]
    var count: Int
    var created: [Int64]
}
