import BrokerWire
import Foundation
import Hummingbird

/// Kite's historical candles: `GET /instruments/historical/{token}/{interval}?from=&to=&oi=&continuous=`.
///
/// Checks run in Kite's order: credentials (403 TokenException), rate limit (429 NetworkException), injected fault
/// (500 GeneralException), parameters (400 InputException).
struct HistoricalController<Context: RequestContext>: Sendable {
    let source: HistoricalCandleSource
    /// Kite's limit: 3 requests per second per API key.
    let rateLimiter: HistoricalRateLimiter

    init(
        market: MarketModel, universe: InstrumentUniverse, credentials: SimulatorCredentials, rateLimiter: HistoricalRateLimiter,
        faults: any HistoricalFaults, counter: HistoricalRequestCounter = HistoricalRequestCounter(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        source = HistoricalCandleSource(market: market, universe: universe, credentials: credentials, faults: faults, counter: counter, now: now)
        self.rateLimiter = rateLimiter
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("instruments/historical/:token/:interval") { request, context in
            try historical(request: request, context: context)
        }
        return routes
    }

    func historical(request: Request, context: Context) throws -> Response {
        let query = request.uri.queryParameters
        let apiKey: String
        if let key = source.credentials.isValid(authorizationHeader: request.headers[.authorization]) {
            apiKey = key
        } else if let key = query["api_key"].map(String.init), let token = query["access_token"].map(String.init),
                  source.credentials.isValid(apiKey: key, accessToken: token) {
            apiKey = key
        } else {
            throw KiteAPIError.invalidCredentials
        }
        guard rateLimiter.allow(apiKey: apiKey) else { throw KiteAPIError.tooManyRequests }
        if source.faults.consumeHistoricalFailure() {
            throw KiteAPIError(.general, "Something went wrong while fetching historical data (injected fault).")
        }

        let tokenText = context.parameters.get("token") ?? ""
        guard let token = UInt32(tokenText), source.universe.instrument(token: token) != nil else {
            throw KiteAPIError(.input, "invalid token")
        }
        let intervalText = context.parameters.get("interval") ?? ""
        guard let interval = KiteCandleInterval(rawValue: intervalText) else {
            throw KiteAPIError(.input, "invalid interval: \(intervalText)")
        }
        guard let fromText = query["from"], let from = Self.parseDate(fromText) else {
            throw KiteAPIError(.input, "invalid from date")
        }
        guard let toText = query["to"], var to = Self.parseDate(toText) else {
            throw KiteAPIError(.input, "invalid to date")
        }
        // A bare `to` date means the whole of that day, as Kite reads it.
        if Self.isDateOnly(toText) { to += 86_399 }
        guard from <= to else { throw KiteAPIError(.input, "from date should be before to date") }
        guard to - from <= Int64(interval.maxRangeDays) * 86_400 else {
            throw KiteAPIError(.input, "interval exceeds max limit: \(interval.maxRangeDays) days")
        }
        let includeOI = query["oi"].map { $0 == "1" || $0.lowercased() == "true" } ?? false

        let candles = source.market.candles(
            token: token, interval: interval, from: Date(timeIntervalSince1970: TimeInterval(from)),
            to: Date(timeIntervalSince1970: TimeInterval(to)), includeOI: includeOI, asOf: source.now()
        )
        source.counter.served(token: token)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: KiteHistoricalJSON.encode(candles, includeOI: includeOI)))
        )
    }

    /// Kite's `yyyy-mm-dd hh:mm:ss` (IST) and `yyyy-mm-dd`; a `+` left for the space by form encoding is accepted.
    static func parseDate(_ text: some StringProtocol) -> Int64? {
        var value = String(text)
        if value.count > 10, value[value.index(value.startIndex, offsetBy: 10)] == "+" {
            value.replaceSubrange(value.index(value.startIndex, offsetBy: 10)...value.index(value.startIndex, offsetBy: 10), with: " ")
        }
        return KiteHistoricalJSON.parseTimestamp(value)
    }

    static func isDateOnly(_ text: some StringProtocol) -> Bool { text.count == 10 }
}
