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
        var description: String { name }
    }

    var code: Code
    var message: String
    var description: String { message }
}

/// Fetches historical candles from the broker's REST API: splits a range into requests the broker allows, paces them
/// per account (``HistoryPacer``), retries 429s (after a pause) and 5xx/network errors (a few times), and merges the
/// answers in time order without duplicates.
struct HistoricalClient: Sendable {
    let accounts: [BrokerAccount]
    let pacer: HistoryPacer
    let httpClient: HTTPClient
    let logger: Logger
    /// Attempts per chunk after 429s.
    var rateLimitedAttempts = 6
    /// Attempts per chunk after 5xx or network errors.
    var failureAttempts = 3
    /// Pause after a 429 before that account is used again.
    var rateLimitedPause: Duration = .seconds(1)
    /// Ceiling of the first retry delay after a 5xx (capped exponential backoff with full jitter, at most 8×).
    var failureBaseDelay: Duration = .milliseconds(200)
    /// Most chunks one request may need.
    var maxChunks = 60

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

    /// `[from, to]` split into ranges of at most the interval's `maxRangeDays`.
    static func chunks(from: Int64, to: Int64, interval: KiteCandleInterval) -> [ClosedRange<Int64>] {
        let span = Int64(interval.maxRangeDays) * 86_400
        var ranges: [ClosedRange<Int64>] = []
        var start = from
        while start <= to {
            let end = min(to, start + span - 1)
            ranges.append(start...end)
            start = end + 1
        }
        return ranges
    }

    /// The candles of `token` in `[from, to]` (Unix seconds), oldest first.
    func candles(token: UInt32, interval: KiteCandleInterval, from: Int64, to: Int64, includeOI: Bool) async throws(HistoryError) -> [KiteCandle] {
        guard !accounts.isEmpty else { throw HistoryError(code: .upstreamFailed, message: "no broker account is configured") }
        let ranges = Self.chunks(from: from, to: to, interval: interval)
        guard ranges.count <= maxChunks else {
            throw HistoryError(
                code: .invalidRequest,
                message: "range too large: \(ranges.count) broker requests of at most \(interval.maxRangeDays) days; at most \(maxChunks) allowed"
            )
        }
        let results: [Result<[KiteCandle], HistoryError>] = await withTaskGroup(of: (Int, Result<[KiteCandle], HistoryError>).self) { group in
            for (index, range) in ranges.enumerated() {
                group.addTask {
                    // Untyped do/catch here: a typed `do throws(HistoryError)` inside this child task traps in release
                    // builds (Swift 6.3), while debug builds run it fine.
                    do {
                        return (index, .success(try await fetch(token: token, interval: interval, range: range, includeOI: includeOI)))
                    } catch let error as HistoryError {
                        return (index, .failure(error))
                    } catch {
                        return (index, .failure(HistoryError(code: .upstreamFailed, message: String(describing: error))))
                    }
                }
            }
            var results = [Result<[KiteCandle], HistoryError>](repeating: .success([]), count: ranges.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        var merged: [KiteCandle] = []
        for result in results {
            switch result {
            case let .success(candles): merged += candles
            case let .failure(error): throw error
            }
        }
        merged.sort { $0.timestamp < $1.timestamp }
        var seen = Set<Int64>()
        return merged.filter { seen.insert($0.timestamp).inserted }
    }

    /// One broker request, retried as documented.
    private func fetch(token: UInt32, interval: KiteCandleInterval, range: ClosedRange<Int64>, includeOI: Bool) async throws(HistoryError) -> [KiteCandle] {
        var rateLimited = 0
        var failures = 0
        var lastProblem = ""
        let ids = accounts.map(\.id)
        while true {
            let (accountID, slot) = await pacer.reserve(accounts: ids)
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
            var url = "\(base)/instruments/historical/\(token)/\(interval.rawValue)?from=\(Self.brokerTime(range.lowerBound))&to=\(Self.brokerTime(range.upperBound))"
            if includeOI { url += "&oi=1" }
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "X-Kite-Version", value: "3")
            request.headers.add(name: "Authorization", value: "token \(credentials.apiKey):\(credentials.accessToken)")
            var status = 0
            var body = ""
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(30))
                status = Int(response.status.code)
                let buffer = try await response.body.collect(upTo: 256 << 20)
                body = String(buffer: buffer)
            } catch {
                status = 0
                lastProblem = "\(error)"
            }
            FeedMetrics.historyUpstream(account: account.id, status: status == 0 ? "error" : String(status))
            switch status {
            case 200:
                do {
                    return try KiteHistoricalJSON.parse(body)
                } catch {
                    lastProblem = "unreadable answer: \(error)"
                    failures += 1
                }
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
