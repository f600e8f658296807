import Hummingbird
import ServiceRuntime
import SharedBasics

/// `GET /subscriptions?limit=&cursor=`: one page of the list instead of all of it. Without either parameter the whole
/// list is the answer, as the seeds' callers expect. Pages follow the token order; a page's `next_cursor` (opaque to
/// callers) starts the next one, and is null on the last. Keyset paging: a subscription added or removed between two
/// pages never shifts the others.
struct SubscriptionPageRequest: Equatable, Sendable {
    /// The largest page.
    static let maxLimit = 10_000
    /// The page size when only `cursor` is given.
    static let defaultLimit = 1_000

    /// The page's subscriptions come after this token.
    var after: Int64?
    var limit: Int

    /// The page asked for; nil when the whole list is.
    init?(query: Parameters) throws(APIError) {
        let limitText = query.get("limit")
        let cursorText = query.get("cursor")
        guard limitText != nil || cursorText != nil else { return nil }
        if let limitText {
            guard let limit = Int(limitText), (1...Self.maxLimit).contains(limit) else {
                throw APIError(.badRequest, "invalid_limit", "limit must be a whole number from 1 to \(Self.maxLimit), not \(Excerpt.quoted(limitText))")
            }
            self.limit = limit
        } else {
            self.limit = Self.defaultLimit
        }
        if let cursorText {
            guard let token = Self.token(inCursor: cursorText) else {
                throw APIError(.badRequest, "invalid_cursor", "cursor \(Excerpt.quoted(cursorText)) is not one this service gave out; start again without it")
            }
            after = token
        }
    }

    /// The cursor of the page that follows the subscription `token`.
    static func cursor(after token: Int64) -> String { "t\(token)" }

    private static func token(inCursor text: String) -> Int64? {
        guard text.first == "t", let token = UInt32(text.dropFirst()) else { return nil }
        return Int64(token)
    }
}
