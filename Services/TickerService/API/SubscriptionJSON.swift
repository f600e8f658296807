import HTTPTypes
import Foundation
import Hummingbird
import Shared

/// A subscription as the API shows it: every field of the record, `account_id` and `connection_id` written as null
/// rather than left out, so clients see every field.
extension SubscriptionRecord: Encodable {
    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case tradingsymbol, segment, exchange, mode, status
        case accountID = "account_id"
        case connectionID = "connection_id"
        case holders
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
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

/// `POST /subscriptions` in batch form: the subscriptions and which were created.
struct SubscriptionBatchJSON: Encodable, Sendable {
    var subscriptions: [SubscriptionRecord]
    var count: Int
    var created: [Int64]
}

/// Encodes API bodies: ISO-8601 dates, sorted keys. (`GET /subscriptions` writes the same JSON by hand:
/// ``SubscriptionListWriter``.)
enum APIJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
