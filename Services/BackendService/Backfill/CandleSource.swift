import AsyncHTTPClient
import BrokerWire
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Shared
import SharedJSON

/// Where backfill gets one-minute candles from.
protocol CandleSource: Sendable {
    /// Candles of one instrument in `[from, to]`, oldest first.
    func candles(token: Int64, from: Date, to: Date) async throws -> [KiteCandle]
}

extension TickerClient: CandleSource {
    /// Production: TickerService's `/history`, which splits and paces requests per broker limits.
    func candles(token: Int64, from: Date, to: Date) async throws -> [KiteCandle] {
        try await history(token: token, from: from, to: to, interval: .minute)
    }
}

/// The broker's (or the simulator's) `GET /instruments/historical/{token}/minute` with `Authorization: token key:token`,
/// paced to at most `requestsPerSecond` request starts in any 1.1 s (Kite allows 3 per API key per second; the margin
/// keeps requests that reach the broker closer together than they left within its window, as TickerService's pacer
/// does), and retried after a pause when the broker still answers 429. Used by component tests and by local runs
/// without TickerService (`BACKFILL_HISTORY_SOURCE=broker`).
struct BrokerHistoricalSource: CandleSource {
    let baseURL: String
    let apiKey: String
    let accessToken: String
    let httpClient: HTTPClient
    let logger: Logger
    let pacer: RequestPacer
    var timeout: TimeAmount = .seconds(30)
    /// Attempts per request while the broker answers 429.
    var rateLimitedAttempts = 4
    /// Pause after a 429 before the next attempt (the broker's window is one second).
    var rateLimitedPause: Duration = .seconds(1)

    init(baseURL: String, apiKey: String, accessToken: String, httpClient: HTTPClient, requestsPerSecond: Double = 3, logger: Logger) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.accessToken = accessToken
        self.httpClient = httpClient
        self.logger = logger
        self.pacer = RequestPacer(minimumSpacing: .milliseconds(Int64((1100 / max(requestsPerSecond, 0.01)).rounded(.up))))
    }

    func candles(token: Int64, from: Date, to: Date) async throws -> [KiteCandle] {
        // Kite allows 60 days of minute candles per request: split longer windows.
        let maxSpan: TimeInterval = Double(KiteCandleInterval.minute.maxRangeDays) * 86_400 - 60
        var result: [KiteCandle] = []
        var start = from
        while start <= to {
            let end = min(to, start.addingTimeInterval(maxSpan))
            result += try await fetch(token: token, from: start, to: end)
            start = end.addingTimeInterval(60)
        }
        return result
    }

    private func fetch(token: Int64, from: Date, to: Date) async throws -> [KiteCandle] {
        var attempt = 1
        while true {
            do {
                return try await fetchOnce(token: token, from: from, to: to)
            } catch let error as TickerClientError where error.status == 429 && attempt < rateLimitedAttempts {
                attempt += 1
                logger.warning("broker historical rate-limited, retrying", metadata: ["instrument_token": "\(token)", "attempt": "\(attempt)"])
                try await Task.sleep(for: rateLimitedPause)
            }
        }
    }

    private func fetchOnce(token: Int64, from: Date, to: Date) async throws -> [KiteCandle] {
        try await pacer.wait()
        let query = "from=\(TickerClient.istQueryTime(from))&to=\(TickerClient.istQueryTime(to))"
        var request = HTTPClientRequest(url: "\(baseURL)/instruments/historical/\(token)/minute?\(query)")
        request.method = .GET
        request.headers.add(name: "X-Kite-Version", value: "3")
        request.headers.add(name: "Authorization", value: "token \(apiKey):\(accessToken)")
        let response: HTTPClientResponse
        let body: String
        do {
            response = try await httpClient.execute(request, timeout: timeout, logger: logger)
            body = String(buffer: try await response.body.collect(upTo: 64 * 1024 * 1024))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TickerClientError(.unreachable, "broker historical \(baseURL): \(error)")
        }
        guard response.status == .ok else {
            let message = (try? JSONValue.parse(body.utf8))?["message"]?.stringValue
            throw TickerClientError(.httpStatus, status: Int(response.status.code), "broker historical \(token): \(message ?? String(body.prefix(200)))")
        }
        do {
            return try KiteHistoricalJSON.parse(body)
        } catch {
            throw TickerClientError(.decoding, "broker historical \(token): \(error)")
        }
    }
}

/// Spaces request starts at least `minimumSpacing` apart, across all callers.
actor RequestPacer {
    let minimumSpacing: Duration
    private var nextSlot: ContinuousClock.Instant = .now

    init(minimumSpacing: Duration) {
        self.minimumSpacing = minimumSpacing
    }

    /// Waits for this caller's slot.
    func wait() async throws {
        let now = ContinuousClock.now
        let slot = max(now, nextSlot)
        nextSlot = slot + minimumSpacing
        if slot > now { try await Task.sleep(until: slot, clock: .continuous) }
    }
}
