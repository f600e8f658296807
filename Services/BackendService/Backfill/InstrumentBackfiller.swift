import BrokerWire
import Foundation
import Logging
import SharedBasics
import SharedInstruments

/// Why a backfill failed; a struct so that cases can grow.
struct BackfillError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// TickerService (or the broker) says the instrument does not exist.
        static let unknownInstrument = Code(name: "unknown_instrument")
        /// Fetching kept failing after every retry.
        static let fetchFailed = Code(name: "fetch_failed")
        /// Writing the bars failed.
        static let storageFailed = Code(name: "storage_failed")
        var description: String { name }
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code): \(message)" }
}

/// Backfills one instrument (`backfill_instrument_immediate` of the seeds, and the gap filler's unit of work): finds
/// the missing window(s), fetches candles through the ``CandleSource`` with retries and backoff, upserts them.
struct InstrumentBackfiller: Sendable {
    let source: any CandleSource
    let store: BackfillStore
    let calendar: SessionCalendar
    let configuration: BackfillConfiguration
    /// The instrument catalog, asking TickerService when the shared table lacks a token (when it has a fallback).
    let instruments: FallbackInstrumentCatalog
    let logger: Logger
    var now: @Sendable () -> Date = { Date() }

    /// Runs one (possibly coalesced) request and records the outcome on its jobs.
    /// - Returns: The outcome and whether a fetch was made.
    func run(_ request: BackfillRequest) async -> (BackfillOutcome, fetched: Bool) {
        let started = ContinuousClock.now
        var logger = logger
        logger[metadataKey: LogKey.instrumentToken] = "\(request.token)"
        logger[metadataKey: LogKey.reason] = "\(request.reason.rawValue)"
        try? await store.startJobs(request.jobIDs)
        var fetched = false
        let outcome: BackfillOutcome
        var written = 0
        do {
            let (exchange, symbol) = try await resolve(request)
            if let symbol { logger[metadataKey: LogKey.tradingsymbol] = "\(symbol)" }
            let windows = try await windows(for: request, exchange: exchange)
            if windows.isEmpty {
                outcome = .nothingToDo
                logger.info("No backfill needed")
            } else {
                for window in windows {
                    let candles = try await fetchWithRetry(token: request.token, window: window, logger: logger)
                    fetched = true
                    let inWindow = candles.filter { $0.timestamp >= window.lowerBound && $0.timestamp < window.upperBound }
                    do {
                        written += try await store.upsert(token: request.token, candles: inWindow)
                        try await store.recordEmptyRanges(token: request.token, ranges: emptyRanges(window: window, candles: inWindow, exchange: exchange))
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        throw BackfillError(.storageFailed, "writing bars of \(request.token): \(error)")
                    }
                }
                outcome = .success(bars: written)
                EventBackfillMetrics.bars(written)
                logger.info(
                    request.reason == .subscription ? "Immediate backfill completed" : "Backfill completed",
                    metadata: [LogKey.barsWritten: "\(written)", LogKey.windows: "\(windows.count)"]
                )
            }
        } catch let error where error is CancellationError || Task.isCancelled {
            // Shutdown: whatever the cancelled call threw (an HTTP client reports it in its own words), this did not fail.
            outcome = .cancelled
        } catch {
            outcome = .failed("\(error)")
            logger.error(request.reason == .subscription ? "Immediate backfill failed" : "Backfill failed", metadata: [LogKey.error: "\(error)"])
        }
        let seconds = Self.seconds(ContinuousClock.now - started)
        switch outcome {
        case .success:
            EventBackfillMetrics.outcome(reason: request.reason.rawValue, outcome: "success", seconds: seconds)
            try? await store.finishJobs(request.jobIDs, status: "done", barsWritten: written, error: nil)
        case .nothingToDo:
            EventBackfillMetrics.outcome(reason: request.reason.rawValue, outcome: "nothing_to_do", seconds: seconds)
            try? await store.finishJobs(request.jobIDs, status: "done", barsWritten: 0, error: nil)
        case .failed(let message):
            EventBackfillMetrics.outcome(reason: request.reason.rawValue, outcome: "failure", seconds: seconds)
            try? await store.finishJobs(request.jobIDs, status: "failed", barsWritten: written, error: message)
        case .cancelled:
            break  // jobs stay open; the next start or another instance resumes them (BackfillJobLeases)
        }
        if !request.eventTimestamps.isEmpty, outcome != .cancelled,
           (try? await store.lastBar(token: request.token, notBefore: now().addingTimeInterval(-configuration.maxLookback.backfillSeconds))) != nil {
            let at = now().timeIntervalSince1970
            for timestamp in request.eventTimestamps { EventBackfillMetrics.eventToFirstBar(seconds: at - timestamp) }
        }
        return (outcome, fetched)
    }

    /// Exchange (for the session) and trading symbol: from the request, else the instrument catalog (which asks
    /// TickerService when the shared table lacks the token).
    private func resolve(_ request: BackfillRequest) async throws -> (exchange: String?, symbol: String?) {
        if let exchange = request.exchange { return (exchange, request.tradingsymbol) }
        do {
            switch try await instruments.resolve(token: request.token) {
            case .found(let instrument): return (instrument.exchange, instrument.tradingsymbol)
            case .unknown: throw BackfillError(.unknownInstrument, "Instrument metadata not found for \(request.token)")
            case .notInCatalog: return (nil, request.tradingsymbol)
            }
        } catch let error as BackfillError {
            throw error
        } catch {
            // TickerService unreachable: the session defaults to NSE hours; the broker decides what exists.
            logger.warning(
                "Instrument lookup failed, using default session", metadata: [LogKey.instrumentToken: "\(request.token)", LogKey.error: "\(error)"]
            )
            return (nil, request.tradingsymbol)
        }
    }

    /// Half-open windows `[start, end)` of minute starts to fetch, merged, never including the current (forming) minute.
    func windows(for request: BackfillRequest, exchange: String?) async throws -> [Range<Int64>] {
        let nowSeconds = Int64(now().timeIntervalSince1970)
        let currentMinute = SessionCalendar.floorDiv(nowSeconds, 60) * 60
        let maxLookback = Int64(configuration.maxLookback.backfillSeconds)
        var windows: [Range<Int64>] = []
        if request.wantsTail {
            // Since the last *backfilled* bar: tick-built bars of a just-subscribed instrument start at the subscription
            // and must not hide the history before it (the broker's candle also replaces them).
            let last = try await store.lastBar(
                token: request.token, notBefore: Date(timeIntervalSince1970: TimeInterval(currentMinute - maxLookback)), source: "backfill"
            )
            let start: Int64?
            if let last {
                start = Int64(last.timeIntervalSince1970) + 60
            } else {
                start = calendar.startOfLastTradingMinutes(configuration.lookbackMinutes, before: currentMinute, exchange: exchange, limit: maxLookback)
            }
            if let start, start < currentMinute, !calendar.tradingMinutes(from: start, to: currentMinute, exchange: exchange).isEmpty {
                windows.append(start..<currentMinute)
            }
        }
        for range in request.ranges {
            let upper = min(range.upperBound + 60, currentMinute)
            if range.lowerBound < upper { windows.append(range.lowerBound..<upper) }
        }
        windows.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int64>] = []
        for window in windows {
            if let last = merged.last, window.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, window.upperBound)
            } else {
                merged.append(window)
            }
        }
        return merged
    }

    private func fetchWithRetry(token: Int64, window: Range<Int64>, logger: Logger) async throws -> [KiteCandle] {
        var attempt = 1
        while true {
            do {
                let candles = try await source.candles(
                    token: token, from: Date(timeIntervalSince1970: TimeInterval(window.lowerBound)),
                    to: Date(timeIntervalSince1970: TimeInterval(window.upperBound - 1))
                )
                EventBackfillMetrics.fetch(outcome: "ok")
                return candles
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                EventBackfillMetrics.fetch(outcome: "error")
                let transient = (error as? TickerClientError)?.isTransient ?? true
                if let tickerError = error as? TickerClientError, tickerError.code == .httpStatus, tickerError.status == 404 {
                    throw BackfillError(.unknownInstrument, "\(tickerError)")
                }
                guard transient, attempt < configuration.maxAttempts else {
                    throw BackfillError(.fetchFailed, "after \(attempt) attempt(s): \(error)")
                }
                let delay = Backoff(base: configuration.retryBase, cap: .seconds(30)).delay(afterFailures: attempt)
                logger.warning("Backfill fetch failed, retrying", metadata: [LogKey.attempt: "\(attempt)", LogKey.delay: "\(delay)", LogKey.error: "\(error)"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Complete trading minutes of the window older than 5 minutes that the broker returned no candle for.
    private func emptyRanges(window: Range<Int64>, candles: [KiteCandle], exchange: String?) -> [(start: Int64, end: Int64)] {
        let settled = SessionCalendar.floorDiv(Int64(now().timeIntervalSince1970), 60) * 60 - 300
        let upper = min(window.upperBound, settled)
        guard window.lowerBound < upper else { return [] }
        let present = Set(candles.map(\.timestamp))
        var ranges: [(start: Int64, end: Int64)] = []
        for minute in calendar.tradingMinutes(from: window.lowerBound, to: upper, exchange: exchange) where !present.contains(minute) {
            if let last = ranges.last, last.end == minute {
                ranges[ranges.count - 1].end = minute + 60
            } else {
                ranges.append((minute, minute + 60))
            }
        }
        return ranges
    }

    static func seconds(_ duration: Duration) -> Double { duration.backfillSeconds }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var backfillSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
