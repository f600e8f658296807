import Foundation
import ServiceRuntime
import Shared

/// A subscription as the API shows it: every field of the record, `account_id` and `connection_id` written as null
/// rather than left out, so clients see every field.
extension SubscriptionRecord: JSONResponseBody {
    /// The API's field names.
    public enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case tradingsymbol, segment, exchange, mode, status
        case accountID = "account_id"
        case connectionID = "connection_id"
        case holders
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Writes every field, nulls included.
    /// - Parameter encoder: The encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instrumentToken, forKey: .instrumentToken)
        try container.encode(tradingsymbol, forKey: .tradingsymbol)
        try container.encode(segment, forKey: .segment)
        try container.encode(exchange, forKey: .exchange)
        try container.encode(mode, forKey: .mode)
        try container.encode(status, forKey: .status)
        try container.encode(accountID, forKey: .accountID)
        try container.encode(connectionID, forKey: .connectionID)
        try container.encode(holders, forKey: .holders)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// `GET /subscriptions`: `{"count":N,"subscriptions":[...]}` (written by ``SubscriptionListWriter``; this is the shape it
/// must match byte for byte).
public struct SubscriptionListJSON: JSONResponseBody, Sendable {
    /// How many subscriptions follow.
    public var count: Int
    /// The subscriptions in token order.
    public var subscriptions: [SubscriptionRecord]

    /// Creates a list body.
    /// - Parameter subscriptions: The subscriptions in token order.
    public init(_ subscriptions: [SubscriptionRecord]) {
        self.count = subscriptions.count
        self.subscriptions = subscriptions
    }
}
