import Foundation
import Hummingbird
import Logging

/// Seed 002's `GET /fo/strike-distribution?symbol=NIFTY&timeframe=1min|5min|15min&expiries=2025-11-28,..&auto_subscribe=true`
/// (`expiry` is accepted for `expiries`, as the seed's curls use it).
///
/// `{"status":"ok","series":[{"expiry":..,"strikes":[{"strike":..,"call":{..}|null,"put":{..}|null}]}],"metadata":{..}}`:
/// per expiry and strike, the latest bar of the call and the put in the timeframe. When nothing is stored and
/// `auto_subscribe` is on, the chain around the money is subscribed through TickerService and the answer waits for real
/// data; `metadata` says what happened (docs/bars.md, "Strike distribution").
struct StrikeDistributionController<Context: RequestContext>: Sendable {
    struct Settings: Sendable {
        var smartSubscriptionEnabled = true
        /// Strikes on each side of the at-the-money strike.
        var strikes = 10
        /// Expiries used when the request names none.
        var defaultExpiries = 3
        /// Most expiries one request may name.
        var maxExpiries = 12
    }

    let chains: OptionChainRepository
    let smartSubscription: SmartSubscriptionManager
    let prices: UnderlyingPriceResolver
    let settings: Settings
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("fo/strike-distribution", use: strikeDistribution)
        return routes
    }

    @Sendable func strikeDistribution(_ request: Request, context: Context) async throws -> Response {
        try await MarketAPIError.answering(
            "GET /fo/strike-distribution", unavailable: "the strike distribution cannot be computed right now", logger: logger,
            count: MarketMetrics.strikeDistribution(outcome:)
        ) {
            try await answer(QueryReader(request))
        }
    }

    private func answer(_ query: QueryReader) async throws -> Response {
        guard let rawSymbol = query.string("symbol") else {
            throw MarketAPIError(.badRequest, .missingParameter, "symbol is required (an underlying such as NIFTY, BANKNIFTY or RELIANCE)")
        }
        let symbol = rawSymbol.uppercased()
        guard symbol.count <= 40, symbol.allSatisfy({ $0.isLetter || $0.isNumber || "&-_. ".contains($0) }) else {
            throw MarketAPIError(.badRequest, .invalidParameter, "symbol '\(rawSymbol)' is not an underlying name")
        }
        let timeframe = try query.timeframe(default: .fiveMinutes)
        let requestedExpiries = try parseExpiries(query.string("expiries") ?? query.string("expiry"))
        let autoSubscribe = try query.bool("auto_subscribe", default: true)

        guard try await chains.hasOptions(symbol: symbol) else {
            throw MarketAPIError(.notFound, .unknownSymbol, "no options of '\(symbol)' are known (instruments has none with that name)")
        }
        let expiries: [String]
        if let requestedExpiries {
            expiries = requestedExpiries
        } else {
            expiries = try await chains.expiries(symbol: symbol, fromDay: IndianMarket.today(), limit: settings.defaultExpiries)
        }

        var rows = try await chains.latestBars(symbol: symbol, expiries: expiries, timeframe: timeframe)
        var metadata: [String: Any] = [
            "symbol": symbol,
            "timeframe": timeframe.rawValue,
            "expiries": expiries,
            "auto_subscribed": false,
            "newly_subscribed": [Int64](),
            "already_subscribed": [Int64](),
            "failed": [Int64](),
            "waited_ms": 0,
        ]
        if !rows.isEmpty {
            metadata["reason"] = "data_available"
        } else if !autoSubscribe {
            metadata["reason"] = "auto_subscribe_off"
        } else if !settings.smartSubscriptionEnabled {
            metadata["reason"] = "smart_subscription_disabled"
        } else if expiries.isEmpty {
            metadata["reason"] = "no_expiries"
        } else if let price = try await prices.price(symbol: symbol) {
            metadata["underlying"] = ["instrument_token": price.instrumentToken, "price": price.price, "source": price.source] as [String: Any]
            let chain = try await chains.chain(symbol: symbol, expiries: expiries)
            let around = OptionChainRepository.aroundTheMoney(chain, price: price.price, strikes: settings.strikes)
            if around.isEmpty {
                metadata["reason"] = "no_contracts"
            } else {
                let result = try await smartSubscription.ensureSubscribed(around.map(\.instrumentToken))
                metadata["requested"] = around.count
                metadata["auto_subscribed"] = !result.newlySubscribed.isEmpty
                metadata["newly_subscribed"] = result.newlySubscribed
                metadata["already_subscribed"] = result.alreadySubscribed
                metadata["failed"] = result.failed
                metadata["instruments_with_data"] = result.instrumentsWithData
                metadata["waited_ms"] = Int(result.waited.components.seconds * 1000 + result.waited.components.attoseconds / 1_000_000_000_000_000)
                if let error = result.error { metadata["error"] = error }
                if result.dataAvailable {
                    rows = try await chains.latestBars(symbol: symbol, expiries: expiries, timeframe: timeframe)
                }
            }
        } else {
            metadata["reason"] = "underlying_price_unknown"
        }
        metadata["data_available"] = !rows.isEmpty
        return try MarketJSON.response(["status": "ok", "series": Self.series(rows), "metadata": metadata])
    }

    private func parseExpiries(_ text: String?) throws(MarketAPIError) -> [String]? {
        guard let text else { return nil }
        var days = Set<String>()
        for part in text.split(separator: ",") {
            let day = part.trimmingCharacters(in: .whitespaces)
            guard IndianMarket.parseDay(day) != nil else {
                throw MarketAPIError(.badRequest, .invalidParameter, "expiries must be comma-separated dates like 2025-11-28; '\(day)' is not one")
            }
            days.insert(day)
        }
        guard !days.isEmpty else { throw MarketAPIError(.badRequest, .invalidParameter, "expiries is empty") }
        guard days.count <= settings.maxExpiries else {
            throw MarketAPIError(.badRequest, .invalidParameter, "at most \(settings.maxExpiries) expiries per request, got \(days.count)")
        }
        return days.sorted()
    }

    /// `[{"expiry":..,"strikes":[{"strike":..,"call":{..}|null,"put":{..}|null}]}]`, expiries and strikes ascending.
    static func series(_ rows: [OptionBarRow]) -> [[String: Any]] {
        var result: [[String: Any]] = []
        for (expiry, expiryRows) in Dictionary(grouping: rows, by: \.contract.expiry).sorted(by: { $0.key < $1.key }) {
            var strikes: [[String: Any]] = []
            for (strike, strikeRows) in Dictionary(grouping: expiryRows, by: \.contract.strike).sorted(by: { $0.key < $1.key }) {
                let call = strikeRows.first { $0.contract.optionType == "CE" }
                let put = strikeRows.first { $0.contract.optionType == "PE" }
                strikes.append([
                    "strike": strike,
                    "call": call.map(side) ?? NSNull(),
                    "put": put.map(side) ?? NSNull(),
                ])
            }
            let callOI = expiryRows.filter { $0.contract.optionType == "CE" }.reduce(Int64(0)) { $0 + $1.oi }
            let putOI = expiryRows.filter { $0.contract.optionType == "PE" }.reduce(Int64(0)) { $0 + $1.oi }
            result.append([
                "expiry": expiry, "strikes": strikes,
                "total_call_oi": callOI, "total_put_oi": putOI,
                "pcr": callOI > 0 ? Double(putOI) / Double(callOI) : NSNull(),
            ])
        }
        return result
    }

    private static func side(_ row: OptionBarRow) -> [String: Any] {
        [
            "instrument_token": row.contract.instrumentToken, "tradingsymbol": row.contract.tradingsymbol,
            "time": MarketJSON.time(row.time), "close": row.close, "volume": row.volume, "oi": row.oi,
        ]
    }
}
