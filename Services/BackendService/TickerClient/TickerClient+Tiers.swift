import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Foundation
import Shared
import SharedJSON

/// One broker connection as TickerService's `/health` lists it.
struct TickerConnection: Codable, Sendable, Equatable {
    var accountID: String
    var connectionID: Int
    var broker: String?
    var instruments: Int
    var capacity: Int
    var state: String

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case connectionID = "connection_id"
        case broker, instruments, capacity, state
    }
}

/// TickerService's feed as the tiers see it: how much the brokers can carry and how it is spread.
struct TickerFeedStatus: Sendable, Equatable {
    /// Instruments every connection together can carry.
    var capacity: Int
    /// Instruments with at least one holder (any holder, not only the tiers').
    var activeSubscriptions: Int
    var connections: [TickerConnection]
}

/// What `POST /subscriptions/release` did.
struct TickerReleaseOutcome: Sendable, Equatable {
    var released: [Int64] = []
    /// Those that left the feed.
    var removed: [Int64] = []
    var notHeld: [Int64] = []
}

extension TickerClient {
    /// Most instruments one `POST /subscriptions` may carry (TickerService's batch limit).
    static let subscribeBatchLimit = 5_000
    /// Most instruments one `POST /subscriptions/release` may carry.
    static let releaseBatchLimit = 25_000

    /// The capacity and the connections from `GET /health` (its 503 body too: a degraded feed still has a shape).
    func feedStatus() async throws -> TickerFeedStatus {
        struct Envelope: Decodable {
            struct Ticker: Decodable {
                var capacity: Int
                var activeSubscriptions: Int
                var connections: [TickerConnection]
                enum CodingKeys: String, CodingKey {
                    case capacity, connections
                    case activeSubscriptions = "active_subscriptions"
                }
            }
            var ticker: Ticker
        }
        let (status, body) = try await send(.GET, path: "/health", body: nil, timeout: requestTimeout)
        guard (200..<300).contains(status) || status == 503 else { throw Self.statusError(status, body, path: "/health") }
        do {
            let envelope = try JSONDecoder().decode(Envelope.self, from: Data(body.utf8))
            return TickerFeedStatus(
                capacity: envelope.ticker.capacity, activeSubscriptions: envelope.ticker.activeSubscriptions, connections: envelope.ticker.connections
            )
        } catch {
            throw TickerClientError(.decoding, "GET /health: \(error)")
        }
    }

    /// Subscribes any number of instruments for `holder`, in TickerService's batch size; stops at the first batch the
    /// feed refuses for capacity (its message in ``TickerSubscribeOutcome/capacityError``, with what was subscribed
    /// before it).
    func subscribeInBatches(_ tokens: [Int64], mode: SubscriptionMode, holder: String) async throws -> TickerSubscribeOutcome {
        var total = TickerSubscribeOutcome(subscribed: [], created: [], capacityError: nil)
        var start = 0
        while start < tokens.count {
            let batch = Array(tokens[start..<min(start + Self.subscribeBatchLimit, tokens.count)])
            start += batch.count
            let outcome = try await subscribe(batch, mode: mode, holder: holder)
            total.subscribed += outcome.subscribed
            total.created += outcome.created
            if let error = outcome.capacityError {
                total.capacityError = error
                break
            }
        }
        return total
    }

    /// `POST /subscriptions/release`: `holder` lets go of every instrument of `tokens` it holds (in batches).
    func release(_ tokens: [Int64], holder: String) async throws -> TickerReleaseOutcome {
        struct Body: Encodable {
            var holder: String
            var instrumentTokens: [Int64]
            enum CodingKeys: String, CodingKey {
                case holder
                case instrumentTokens = "instrument_tokens"
            }
        }
        struct Answer: Decodable {
            var released: [Int64]
            var removed: [Int64]
            var notHeld: [Int64]
            enum CodingKeys: String, CodingKey {
                case released, removed
                case notHeld = "not_held"
            }
        }
        var total = TickerReleaseOutcome()
        var start = 0
        while start < tokens.count {
            let batch = Array(tokens[start..<min(start + Self.releaseBatchLimit, tokens.count)])
            start += batch.count
            let text = String(decoding: try JSONEncoder().encode(Body(holder: holder, instrumentTokens: batch)), as: UTF8.self)
            let (status, body) = try await send(.POST, path: "/subscriptions/release", body: text, timeout: requestTimeout)
            guard (200..<300).contains(status) else { throw Self.statusError(status, body, path: "/subscriptions/release") }
            do {
                let answer = try JSONDecoder().decode(Answer.self, from: Data(body.utf8))
                total.released += answer.released
                total.removed += answer.removed
                total.notHeld += answer.notHeld
            } catch {
                throw TickerClientError(.decoding, "POST /subscriptions/release: \(error)")
            }
        }
        return total
    }

    /// `POST /admin/rebalance`: TickerService's answer as it is (status and JSON body), for the backend to pass on.
    func rebalance() async throws -> (status: Int, body: String) {
        try await send(.POST, path: "/admin/rebalance", body: "{}", timeout: .seconds(120))
    }
}
