import Foundation
import ServiceRuntime

/// What a stream client sends: one JSON text message per action (docs/stream.md).
///
/// `{"action":"subscribe","tokens":[...]}`, `{"action":"unsubscribe","tokens":[...]}`,
/// `{"action":"watchlist","user_id":"..."}`.
struct StreamRequest: Decodable, Sendable, Equatable {
    var action: String
    var tokens: [Int64]?
    var userID: String?

    enum CodingKeys: String, CodingKey {
        case action, tokens
        case userID = "user_id"
    }
}

/// What the server sends: every message is a JSON object whose `type` says which it is (docs/stream.md).
enum StreamReply: Sendable, Equatable {
    /// The tokens an action added, and how many the client now streams.
    case subscribed(tokens: [Int64], total: Int)
    /// The tokens an action removed, and how many the client still streams.
    case unsubscribed(tokens: [Int64], total: Int)
    /// A message that was refused; the connection stays usable.
    case error(code: String, message: String)
    /// The latest quote of each instrument that changed since the last message (one per instrument).
    case quotes([QuoteBody])
}

extension StreamReply: Encodable {
    enum CodingKeys: String, CodingKey {
        case type, tokens, total, code, message, quotes
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .subscribed(let tokens, let total):
            try container.encode("subscribed", forKey: .type)
            try container.encode(tokens, forKey: .tokens)
            try container.encode(total, forKey: .total)
        case .unsubscribed(let tokens, let total):
            try container.encode("unsubscribed", forKey: .type)
            try container.encode(tokens, forKey: .tokens)
            try container.encode(total, forKey: .total)
        case .error(let code, let message):
            try container.encode("error", forKey: .type)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
        case .quotes(let quotes):
            try container.encode("quotes", forKey: .type)
            try container.encode(quotes, forKey: .quotes)
        }
    }

    /// The message's text, written with the services' JSON settings (``APIJSON``).
    func text(_ encoder: JSONEncoder) -> String {
        // Every case encodes plain values, so encoding cannot fail.
        (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"type":"error","code":"internal","message":"encoding failed"}"#
    }
}

/// The `code` of an `error` message.
enum StreamErrorCode {
    /// Not JSON, or not an object of the documented shape.
    static let invalidMessage = "invalid_message"
    /// `action` is none of subscribe, unsubscribe, watchlist.
    static let unknownAction = "unknown_action"
    /// A token is not a positive integer, or the list is missing or empty.
    static let invalidToken = "invalid_token"
    /// The message names more tokens than `STREAM_MAX_TOKENS_PER_MESSAGE`, or the client would stream more than
    /// `STREAM_MAX_TOKENS_PER_CLIENT`.
    static let tooManyTokens = "too_many_tokens"
    /// `user_id` is missing or not a valid user id.
    static let invalidUser = "invalid_user"
    /// The user has no watchlist.
    static let unknownUser = "unknown_user"
    /// The watchlist could not be read now.
    static let unavailable = "unavailable"
}
