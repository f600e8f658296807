import AsyncHTTPClient
import BrokerWire
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Shared
import SharedBasics
import SharedJSON

/// Why a history request failed; the controller maps codes to HTTP statuses.
struct HistoryError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// The request's parameters are wrong (400).
        static let invalidRequest = Code("invalidRequest")
        /// The broker refused the parameters (400, with its message).
        static let rejectedByBroker = Code("rejectedByBroker")
        /// The broker kept failing or could not be reached (502).
        static let upstreamFailed = Code("upstreamFailed")
        /// The interactive share of the broker budget is booked further ahead than a client should wait (429).
        static let busy = Code("busy")
        var description: String { name }
    }

    var code: Code
    var message: String
    /// For ``Code/busy``: when a retry could get a slot.
    var retryAfter: Duration? = nil
    var description: String { message }
}

/// Fetches historical candles from the broker's REST API: one broker request per call (the caller keeps the range
/// within the interval's limit), paced per account (``HistoryPacer``, with backfill's share), retried after 429s (after a
/// pause) and 5xx/network errors (a few times) until the broker answers 200, whose body is then handed over unread so
/// that it can be streamed to the client.
struct HistoricalClient: Sendable {
    let accounts: [BrokerAccount]
    let pacer: HistoryPacer
    let httpClient: HTTPClient
    let logger: Logger
    /// Attempts per request after 429s.
    var rateLimitedAttempts = 6
    /// Attempts per request after 5xx or network errors.
    var failureAttempts = 3
    /// Pause after a 429 before that account is used again.
    var rateLimitedPause: Duration = .seconds(1)
    /// Ceiling of the first retry delay after a 5xx (capped exponential backoff with full jitter, at most 8×).
    var failureBaseDelay: Duration = .milliseconds(200)
    /// An interactive request whose slot is further away than this is refused (429) instead of queued.
    var maxInteractiveWait: Duration = .seconds(20)

    /// - Parameters:
    ///   - configuration: Accounts and the per-account rate.
    ///   - httpClient: The HTTP client (default: the shared one).
    ///   - logger: Logger.
    init(configuration: FeedConfiguration, httpClient: HTTPClient = .shared, logger: Logger) {
        self.accounts = configuration.accounts
        self.pacer = HistoryPacer(requestsPerSecond: configuration.historyRequestsPerSecond)
        self.httpClient = httpClient
        self.logger = logger
    }

    /// The largest `to - from` one request may span for `interval`: Kite's per-request limit.
    static func maxRange(_ interval: KiteCandleInterval) -> Int64 { Int64(interval.maxRangeDays) * 86_400 }

    /// Sends the broker request for the candles of `token` in `[from, to]` (Unix seconds) and returns the body of its
    /// 200 answer, not yet read (Kite's JSON, oldest candle first).
    /// - Parameter purpose: Which share of the pacing the request may use.
    func open(
        token: UInt32, interval: KiteCandleInterval, from: Int64, to: Int64, includeOI: Bool, purpose: HistoryPacer.Purpose
    ) async throws(HistoryError) -> HTTPClientResponse.Body {
        guard !accounts.isEmpty else { throw HistoryError(code: .upstreamFailed, message: "no broker account is configured") }
        guard to - from <= Self.maxRange(interval) else {
            throw HistoryError(code: .invalidRequest, message: "range too large: interval \(interval.rawValue) allows at most \(interval.maxRangeDays) days per request")
        }
        var rateLimited = 0
        var failures = 0
        var lastProblem = ""
        let ids = accounts.map(\.id)
        while true {
            if purpose == .interactive {
                let waits = await ids.asyncMap { id in await pacer.nextSlot(account: id, purpose: purpose) }
                let wait = (waits.min() ?? .now) - .now
                if wait > maxInteractiveWait {
                    throw HistoryError(
                        code: .busy, message: "the broker's request budget for interactive history is booked for the next \(Int(wait.wholeMilliseconds / 1000)) s; retry later",
                        retryAfter: wait
                    )
                }
            }
            let (accountID, slot) = await pacer.reserve(accounts: ids, purpose: purpose)
            let account = accounts.first { $0.id == accountID }!
            do {
                try await Task.sleep(until: slot, clock: .continuous)
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "cancelled")
            }
            let credentials: BrokerCredentials
            do {
                credentials = try account.loadCredentials()
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "account \(account.id): \(error.message)")
            }
            var base = account.restURL
            while base.hasSuffix("/") { base.removeLast() }
            var url = "\(base)/instruments/historical/\(token)/\(interval.rawValue)?from=\(Self.brokerTime(from))&to=\(Self.brokerTime(to))"
            if includeOI { url += "&oi=1" }
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "X-Kite-Version", value: "3")
            request.headers.add(name: "Authorization", value: "token \(credentials.apiKey):\(credentials.accessToken)")
            var status = 0
            var body = ""
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(30))
                status = Int(response.status.code)
                FeedMetrics.historyUpstream(account: account.id, status: String(status), purpose: purpose.rawValue)
                if status == 200 { return response.body }
                // An error answer is small; read at most 64 KB of it for the message.
                body = String(buffer: try await response.body.collect(upTo: 64 << 10))
            } catch {
                if status == 0 {
                    FeedMetrics.historyUpstream(account: account.id, status: "error", purpose: purpose.rawValue)
                    lastProblem = "\(error)"
                }
            }
            switch status {
            case 429:
                rateLimited += 1
                FeedMetrics.rateLimited(account: account.id, api: "historical")
                await pacer.penalize(account.id, for: rateLimitedPause)
                logger.warning("broker rate-limited a historical request; retrying", metadata: ["account": "\(account.id)", "attempt": "\(rateLimited)"])
                if rateLimited >= rateLimitedAttempts {
                    throw HistoryError(code: .upstreamFailed, message: "the broker kept answering 429 (rate limited) after \(rateLimited) attempts")
                }
                continue
            case 400..<500:
                let message = Self.brokerMessage(body) ?? "HTTP \(status)"
                if status == 403 || status == 401 {
                    logger.error("broker refused the account's credentials for historical data", metadata: ["account": "\(account.id)"])
                    throw HistoryError(code: .upstreamFailed, message: "the broker refused account \(account.id)'s credentials: \(message)")
                }
                throw HistoryError(code: .rejectedByBroker, message: message)
            default:
                if status != 0 { lastProblem = "HTTP \(status): \(Self.brokerMessage(body) ?? "")" }
                failures += 1
            }
            if failures >= failureAttempts {
                throw HistoryError(code: .upstreamFailed, message: "the broker failed \(failures) times; last: \(lastProblem)")
            }
            logger.warning("historical request failed; retrying", metadata: ["account": "\(account.id)", "attempt": "\(failures)", "error": "\(lastProblem)"])
            do {
                try await Task.sleep(for: Backoff(base: failureBaseDelay, cap: failureBaseDelay * 8).delay(afterFailures: failures))
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "cancelled")
            }
        }
    }

    /// Kite's `yyyy-mm-dd hh:mm:ss` in IST, URL-encoded.
    static func brokerTime(_ unixSeconds: Int64) -> String {
        let text = KiteHistoricalJSON.formatTimestamp(unixSeconds)  // 2025-11-20T09:15:00+0530
        return String(text.prefix(10)) + "%20" + String(text.dropFirst(11).prefix(8))
    }

    /// The `message` of a Kite error body.
    static func brokerMessage(_ body: String) -> String? {
        (try? JSONValue.parse(body.utf8))?["message"]?.stringValue
    }
}

extension Array where Element: Sendable {
    /// The elements mapped one after the other by an async function.
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(await transform(element)) }
        return result
    }
}
