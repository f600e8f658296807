import Foundation
import Shared

/// Whether an instrument has any holder left.
public enum SubscriptionStatus: String, Sendable, Codable {
    /// At least one holder.
    case active
    /// The last holder left; the row is kept.
    case inactive
}

/// Who asked for an instrument, and in which mode.
public struct SubscriptionHolder: Sendable, Hashable, Codable {
    /// e.g. `api`, `user:42`, `tier:always-on`.
    public var holder: String
    /// The mode this holder asked for.
    public var mode: SubscriptionMode

    /// Creates a holder.
    /// - Parameters:
    ///   - holder: The holder's name.
    ///   - mode: The mode it asked for.
    public init(holder: String, mode: SubscriptionMode) {
        self.holder = holder
        self.mode = mode
    }
}

/// One stored subscription (a row of `instrument_subscriptions` with its holders), as TickerService's API shows it.
public struct SubscriptionRecord: Sendable, Equatable {
    /// The instrument.
    public var instrumentToken: Int64
    /// e.g. `NIFTY25NOV24500CE`.
    public var tradingsymbol: String
    /// e.g. `NFO-OPT`.
    public var segment: String
    /// e.g. `NFO`.
    public var exchange: String
    /// The highest mode any holder asked for.
    public var mode: SubscriptionMode
    /// Active or inactive.
    public var status: SubscriptionStatus
    /// The broker account streaming it, when placed.
    public var accountID: String?
    /// The connection of that account, when placed.
    public var connectionID: Int?
    /// Sorted by holder name.
    public var holders: [SubscriptionHolder]
    /// When it was first subscribed.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Creates a record.
    /// - Parameters:
    ///   - instrumentToken: The instrument.
    ///   - tradingsymbol: Its trading symbol.
    ///   - segment: Its segment.
    ///   - exchange: Its exchange.
    ///   - mode: The highest mode any holder asked for.
    ///   - status: Active or inactive.
    ///   - accountID: The broker account streaming it.
    ///   - connectionID: The connection of that account.
    ///   - holders: Its holders, sorted by name.
    ///   - createdAt: When it was first subscribed.
    ///   - updatedAt: When it last changed.
    public init(
        instrumentToken: Int64, tradingsymbol: String, segment: String, exchange: String, mode: SubscriptionMode,
        status: SubscriptionStatus, accountID: String?, connectionID: Int?, holders: [SubscriptionHolder], createdAt: Date, updatedAt: Date
    ) {
        self.instrumentToken = instrumentToken
        self.tradingsymbol = tradingsymbol
        self.segment = segment
        self.exchange = exchange
        self.mode = mode
        self.status = status
        self.accountID = accountID
        self.connectionID = connectionID
        self.holders = holders
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Active and held by someone.
    public var isLive: Bool { status == .active && !holders.isEmpty }
}
