import Foundation
import Shared

/// Whether an instrument has any holder left.
enum SubscriptionStatus: String, Sendable, Codable {
    case active
    case inactive
}

/// Who asked for an instrument, and in which mode.
struct SubscriptionHolder: Sendable, Hashable, Codable {
    var holder: String
    var mode: SubscriptionMode
}

/// One stored subscription (a row of `instrument_subscriptions` with its holders).
struct SubscriptionRecord: Sendable, Equatable {
    var instrumentToken: Int64
    var tradingsymbol: String
    var segment: String
    var exchange: String
    /// The highest mode any holder asked for.
    var mode: SubscriptionMode
    var status: SubscriptionStatus
    var accountID: String?
    var connectionID: Int?
    /// Sorted by holder name.
    var holders: [SubscriptionHolder]
    var createdAt: Date
    var updatedAt: Date

    /// Active and held by someone.
    var isLive: Bool { status == .active && !holders.isEmpty }
}
