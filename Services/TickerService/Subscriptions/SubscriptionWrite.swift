import Shared
import TickerAPIModel

/// The new state of one subscription row and the holder change that leads to it, written by
/// ``SubscriptionStore/apply(_:events:)`` in one transaction together with the events it causes.
struct SubscriptionWrite: Sendable {
    /// What happens to the holders.
    enum HolderChange: Sendable {
        /// Add the holder, or change its mode.
        case upsert(SubscriptionHolder)
        /// Remove one holder.
        case remove(String)
        /// Remove every holder.
        case removeAll
    }

    var token: Int64
    var tradingsymbol: String
    var segment: String
    var exchange: String
    var mode: SubscriptionMode
    var status: SubscriptionStatus
    /// Where the feed placed it; nil keeps the stored placement.
    var accountID: String?
    var connectionID: Int?
    var holderChange: HolderChange
}
