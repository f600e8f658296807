import HTTPTypes
import ServiceRuntime
import Shared
import SharedBasics
import SharedJSON

/// Reads `POST /subscriptions` bodies, with errors that name the field and the problem:
/// - seed 003's single form `{"instrument_token": 13660418, "requested_mode": "FULL", "holder": "api"}`;
/// - the batch form `{"instruments": [{"instrument_token": .., "requested_mode": ..}, ...], "holder": ..}`.
/// `requested_mode` defaults to `FULL` (any case accepted); `holder` to `api`. An optional `account_id` (top level, or
/// per instrument in a batch) pins instruments to one broker account when they are first placed.
enum SubscriptionRequestParser {
    /// The most instruments one request may carry.
    static let maxBatch = 5_000
    static let defaultMode = SubscriptionMode.full

    struct Parsed: Sendable, Equatable {
        var items: [SubscriptionManager.Item]
        var holder: String
        var isBatch: Bool
    }

    static func parse(_ bytes: [UInt8]) throws(APIError) -> Parsed {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw APIError(.badRequest, "malformed_json", "the request body is not valid JSON")
        }
        guard case .object(let body) = value else {
            throw APIError(.badRequest, "malformed_json", "the request body must be a JSON object")
        }
        let holder = try parseHolder(body["holder"])
        let account = try accountID(body["account_id"], path: "")
        if body["instruments"] != nil, body["instrument_token"] != nil {
            throw APIError(
                .unprocessableContent, "invalid_request",
                "give either instrument_token (one instrument) or instruments (a batch), not both"
            )
        }
        if let rawList = body["instruments"] {
            guard case .array(let list) = rawList else {
                throw APIError(.unprocessableContent, "invalid_request", "instruments must be an array of {instrument_token, requested_mode}")
            }
            guard !list.isEmpty else { throw APIError(.unprocessableContent, "invalid_request", "instruments must not be empty") }
            guard list.count <= maxBatch else {
                throw APIError(.unprocessableContent, "batch_too_large", "instruments has \(list.count) entries; at most \(maxBatch) per request")
            }
            var items: [SubscriptionManager.Item] = []
            items.reserveCapacity(list.count)
            for (index, raw) in list.enumerated() {
                guard case .object(let entry) = raw else {
                    throw APIError(.unprocessableContent, "invalid_request", "instruments[\(index)] must be an object")
                }
                var parsed = try item(entry, path: "instruments[\(index)].")
                parsed.accountID = try accountID(entry["account_id"], path: "instruments[\(index)].") ?? account
                items.append(parsed)
            }
            return Parsed(items: items, holder: holder, isBatch: true)
        }
        var single = try item(body, path: "")
        single.accountID = account
        return Parsed(items: [single], holder: holder, isBatch: false)
    }

    /// The longest `account_id` accepted, in characters (account ids are short names from `ACCOUNTS_FILE`).
    static let maxAccountIDLength = 64

    private static func accountID(_ raw: JSONValue?, path: String) throws(APIError) -> String? {
        guard let raw else { return nil }
        guard let text = raw.stringValue, !text.isEmpty, text.count <= maxAccountIDLength else {
            throw APIError(
                .unprocessableContent, "invalid_account", "\(path)account_id must be a non-empty string of at most \(maxAccountIDLength) characters",
                field: "\(path)account_id"
            )
        }
        return text
    }

    /// Parses a token from a path or query parameter.
    static func token(_ text: String?) throws(APIError) -> Int64 {
        guard let text, let value = Int64(text), value > 0, value <= Int64(UInt32.max) else {
            throw APIError(.badRequest, "invalid_token", "\(Excerpt.quoted(text ?? "")) is not an instrument token (a positive integer up to \(UInt32.max))")
        }
        return value
    }

    /// Checks a holder name given in a query parameter.
    static func holder(_ text: String?) throws(APIError) -> String {
        guard let text else { return HolderName.defaultHolder }
        if let problem = HolderName.problem(text) { throw APIError(.unprocessableContent, "invalid_holder", "holder \(problem)") }
        return text
    }

    private static func parseHolder(_ raw: JSONValue?) throws(APIError) -> String {
        guard let raw else { return HolderName.defaultHolder }
        guard let text = raw.stringValue else {
            throw APIError(.unprocessableContent, "invalid_holder", "holder must be a string (leave it out for \(HolderName.defaultHolder))", field: "holder")
        }
        return try holder(text)
    }

    private static func item(_ entry: [String: JSONValue], path: String) throws(APIError) -> SubscriptionManager.Item {
        guard let rawToken = entry["instrument_token"], !rawToken.isNull else {
            throw APIError(.unprocessableContent, "invalid_request", "\(path)instrument_token is required")
        }
        // A number only: a string that looks like one ("256265") is refused too, so a client's type mistake shows at once.
        if let text = rawToken.stringValue {
            throw APIError(
                .unprocessableContent, "invalid_token",
                "\(path)instrument_token must be a JSON number (e.g. 256265), not the string \(Excerpt.quoted(text))", field: "\(path)instrument_token"
            )
        }
        guard let number = rawToken.doubleValue, let token = Int64(exactly: number) else {
            throw APIError(
                .unprocessableContent, "invalid_token", "\(path)instrument_token must be a positive integer, not \(Excerpt.quoted(rawToken.jsonText))",
                field: "\(path)instrument_token"
            )
        }
        guard token > 0, token <= Int64(UInt32.max) else {
            throw APIError(.unprocessableContent, "invalid_token", "\(path)instrument_token \(token) is out of range (1...\(UInt32.max))")
        }
        var mode = defaultMode
        if let rawMode = entry["requested_mode"] ?? entry["mode"] {
            guard let text = rawMode.stringValue, let parsed = SubscriptionMode(caseInsensitive: text) else {
                throw APIError(
                    .unprocessableContent, "invalid_mode",
                    "\(path)requested_mode \(Excerpt.quoted(rawMode.stringValue ?? rawMode.jsonText)) is not one of \(SubscriptionMode.allCases.map(\.rawValue).joined(separator: ", ")) (leave it out for \(defaultMode.rawValue))",
                    field: "\(path)requested_mode"
                )
            }
            mode = parsed
        }
        return SubscriptionManager.Item(token: token, mode: mode)
    }
}
