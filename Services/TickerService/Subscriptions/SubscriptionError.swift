/// Why a subscription change was refused or failed.
struct SubscriptionError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A token is not in the instrument registry.
        static let unknownInstrument = Code(name: "unknown_instrument")
        /// The instrument has no active subscription.
        static let notSubscribed = Code(name: "not_subscribed")
        /// The instrument is subscribed, but not by that holder.
        static let holderNotFound = Code(name: "holder_not_found")
        /// The feed has no room for the new instruments.
        static let capacityExhausted = Code(name: "capacity_exhausted")
        /// The pinned account is full, cannot carry the instrument, or its credentials were refused.
        static let accountUnavailable = Code(name: "account_unavailable")
        /// The pinned account is not configured.
        static let unknownAccount = Code(name: "unknown_account")
        /// No configured broker can stream the instrument (a Dhan-only deployment and no Dhan mapping).
        static let unplaceable = Code(name: "unplaceable")
        /// The feed cannot stream at all (no usable account, not running).
        static let feedUnavailable = Code(name: "feed_unavailable")
        /// PostgreSQL failed; nothing was changed.
        static let storageUnavailable = Code(name: "storage_unavailable")
        var description: String { name }
    }

    var code: Code
    var message: String
    var description: String { "\(code): \(message)" }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
