import BrokerWire
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import ServiceLifecycle
import ServiceRuntime

/// `GET /history/{token}?from=&to=&interval=minute[&oi=1]`: the broker's historical candles, fetched in ranges the
/// broker allows and paced by its rate limit, answered in Kite's shape `{"status":"success","data":{"candles":[...]}}`.
///
/// `from`/`to`: `yyyy-MM-dd`, `yyyy-MM-dd HH:mm[:ss]` (IST) or ISO 8601 with an offset; a bare `to` date means the whole
/// day. Errors are Kite-shaped JSON: 400 (`InputException`) for bad parameters, 502 (`NetworkException`) when the broker
/// keeps failing.
struct HistoryController<Context: RequestContext>: Sendable {
    let client: HistoricalClient

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("history/:token") { request, context in
            await history(request: request, context: context)
        }
        return routes
    }

    func history(request: Request, context: Context) async -> Response {
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
        let includeOI = query["oi"].map { $0 == "1" || $0.lowercased() == "true" } ?? false
        do {
            // A paced request can wait for many seconds: shutdown cancels it rather than wait for it.
            let candles = try await cancelWhenGracefulShutdown { [client, to] () async throws(HistoryError) -> [KiteCandle] in
                try await client.candles(token: token, interval: interval, from: from, to: to, includeOI: includeOI)
            }
            FeedMetrics.history(outcome: "ok")
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: KiteHistoricalJSON.encode(candles, includeOI: includeOI)))
            )
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
            default:
                FeedMetrics.history(outcome: "upstream_failed")
                return Self.error(.badGateway, "NetworkException", error.message)
            }
        }
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
