import AsyncHTTPClient
import BrokerWire
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import ServiceLifecycle
import ServiceRuntime

/// `GET /history/{token}?from=&to=&interval=minute[&oi=1]`: the broker's historical candles in one broker request,
/// paced by its rate limit, answered in Kite's shape `{"status":"success","data":{"candles":[...]}}` and streamed:
/// candles are written (chunked) as the broker's answer arrives, so memory stays flat whatever the range. An instrument
/// on a Dhan account is fetched from Dhan's charts API (``HistoricalClient``) and answered in the same Kite shape; Dhan
/// serves minute, 5minute, 15minute and 60minute, at most 90 days per request.
///
/// `from`/`to`: `yyyy-MM-dd`, `yyyy-MM-dd HH:mm[:ss]` (IST) or ISO 8601 with an offset; a bare `to` date means the whole
/// day. `to - from` may be at most Kite's limit for the interval (minute 60 days; 3/5/10minute 100; 15/30minute 200;
/// 60minute 400; day 2000). Requires `X-API-Key` when `API_KEY_ENABLED` is on (it spends broker quota).
/// `X-History-Purpose: backfill` marks BackendService's requests, which have a share of the pacing of their own
/// (``HistoryPacer``). Errors are Kite-shaped JSON: 400 (`InputException`) for bad parameters, 401 (`TokenException`)
/// without the key, 429 (`NetworkException`) when the interactive share is booked too far ahead, 502
/// (`NetworkException`) when the broker keeps failing.
struct HistoryController<Context: RequestContext>: Sendable {
    let client: HistoricalClient
    /// `X-API-Key`, nil when `API_KEY_ENABLED` is off.
    let apiKey: String?
    var logger = Logger(label: "ticker-service.history")

    static var purposeHeader: HTTPField.Name { HTTPField.Name("X-History-Purpose")! }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("history/:token") { request, context in
            await history(request: request, context: context)
        }
        return routes
    }

    func history(request: Request, context: Context) async -> Response {
        if let message = RequestKeyMiddleware<Context>.apiKey(apiKey).rejection(of: request) {
            return Self.error(.unauthorized, "TokenException", message)
        }
        let query = request.uri.queryParameters
        guard let tokenText = context.parameters.get("token"), let token = UInt32(tokenText) else {
            return Self.error(.badRequest, "InputException", "instrument token must be a whole number from 0 to 4294967295")
        }
        let intervalText = query["interval"].map(String.init) ?? KiteCandleInterval.minute.rawValue
        guard let interval = KiteCandleInterval(rawValue: intervalText) else {
            let allowed = KiteCandleInterval.allCases.map(\.rawValue).joined(separator: ", ")
            return Self.error(.badRequest, "InputException", "unknown interval '\(intervalText)'; use one of \(allowed)")
        }
        guard let fromText = query["from"].map(String.init), !fromText.isEmpty else {
            return Self.error(.badRequest, "InputException", "from is required (yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, IST)")
        }
        guard let toText = query["to"].map(String.init), !toText.isEmpty else {
            return Self.error(.badRequest, "InputException", "to is required (yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, IST)")
        }
        guard let from = Self.parseDate(fromText) else {
            return Self.error(.badRequest, "InputException", "from '\(fromText)' is not a date (yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, IST)")
        }
        guard var to = Self.parseDate(toText) else {
            return Self.error(.badRequest, "InputException", "to '\(toText)' is not a date (yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, IST)")
        }
        if toText.count == 10 { to += 86_399 }
        guard from <= to else { return Self.error(.badRequest, "InputException", "from (\(fromText)) is after to (\(toText))") }
        guard to - from <= HistoricalClient.maxRange(interval) else {
            FeedMetrics.history(outcome: "rejected")
            let days = Double(to - from) / 86_400
            return Self.error(
                .badRequest, "InputException",
                "the range spans \(String(format: "%.1f", days)) days; interval \(interval.rawValue) allows at most \(interval.maxRangeDays) days per request"
            )
        }
        let includeOI = query["oi"].map { $0 == "1" || $0.lowercased() == "true" } ?? false
        let purpose: HistoryPacer.Purpose = request.headers[Self.purposeHeader]?.lowercased() == "backfill" ? .backfill : .interactive
        let body: HistoryCandleBatches
        do {
            // A paced request can wait for many seconds: shutdown cancels it rather than wait for it.
            body = try await cancelWhenGracefulShutdown { [client, to] () async throws(HistoryError) -> HistoryCandleBatches in
                try await client.open(token: token, interval: interval, from: from, to: to, includeOI: includeOI, purpose: purpose)
            }
        } catch {
            if Task.isShuttingDownGracefully {
                FeedMetrics.history(outcome: "shutdown")
                return Self.error(.serviceUnavailable, "NetworkException", "TickerService is shutting down; retry against another instance")
            }
            guard let error = error as? HistoryError else {
                FeedMetrics.history(outcome: "upstream_failed")
                return Self.error(.badGateway, "NetworkException", "\(error)")
            }
            switch error.code {
            case .invalidRequest, .rejectedByBroker:
                FeedMetrics.history(outcome: "rejected")
                return Self.error(.badRequest, "InputException", error.message)
            case .busy:
                FeedMetrics.history(outcome: "busy")
                var response = Self.error(.tooManyRequests, "NetworkException", error.message)
                if let wait = error.retryAfter { response.headers[.retryAfter] = String(max(1, wait.components.seconds + 1)) }
                return response
            default:
                FeedMetrics.history(outcome: "upstream_failed")
                return Self.error(.badGateway, "NetworkException", error.message)
            }
        }
        let logger = logger
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                try await Self.stream(body, includeOI: includeOI, to: &writer, logger: logger)
            }
        )
    }

    /// Copies the broker's candles to the client page by page, in Kite's shape whichever broker answered: every batch
    /// (for Kite, every chunk of its answer) is re-encoded and written before the next is read. A broken or unreadable
    /// answer ends the response without its closing `]}}` (the client sees a truncated body and retries).
    static func stream(_ body: HistoryCandleBatches, includeOI: Bool, to writer: inout any ResponseBodyWriter, logger: Logger) async throws {
        try await writer.write(ByteBuffer(string: KiteHistoricalJSON.candlesPrefix))
        var first = true
        do {
            for try await candles in body where !candles.isEmpty {
                var page = first ? "" : ","
                page += KiteHistoricalJSON.rows(candles, includeOI: includeOI)
                first = false
                try await writer.write(ByteBuffer(string: page))
            }
        } catch {
            FeedMetrics.history(outcome: "stream_failed")
            logger.error("historical answer broke off while streaming", metadata: ["error": "\(error)"])
            throw error
        }
        try await writer.write(ByteBuffer(string: KiteHistoricalJSON.candlesSuffix))
        try await writer.finish(nil)
        FeedMetrics.history(outcome: "ok")
    }

    /// Kite's formats; a `+` left for the space by form encoding is accepted.
    static func parseDate(_ text: String) -> Int64? {
        var value = text
        if value.count > 10 {
            let index = value.index(value.startIndex, offsetBy: 10)
            if value[index] == "+" { value.replaceSubrange(index...index, with: " ") }
        }
        return KiteHistoricalJSON.parseTimestamp(value)
    }

    static func error(_ status: HTTPResponse.Status, _ type: String, _ message: String) -> Response {
        // Three strings: encoding cannot fail.
        (try? APIJSON.response(KiteErrorBody(message: message, errorType: type), status: status)) ?? Response(status: status)
    }
}

