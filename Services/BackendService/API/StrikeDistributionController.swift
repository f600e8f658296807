import Foundation
import Hummingbird
import Logging
import ServiceRuntime
import SharedBasics

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

    @Sendable func strikeDistribution(_ request: Request, context: Context) async throws -> StrikeDistributionBody {
        try await APIError.answering(
            "GET /fo/strike-distribution", unavailable: "the strike distribution cannot be computed right now", logger: logger,
            count: MarketMetrics.strikeDistribution(outcome:)
        ) {
            try await answer(QueryReader(request))
        }
    }

    private func answer(_ query: QueryReader) async throws -> StrikeDistributionBody {
        guard let rawSymbol = query.name("symbol"), !rawSymbol.isEmpty else {
            throw APIError(
                .badRequest, .missingParameter, "symbol is required (an underlying such as NIFTY, BANKNIFTY or RELIANCE)", field: "symbol"
            )
        }
        guard MarketParameters.isUnderlyingName(rawSymbol) else {
            throw APIError(
                .badRequest, .invalidParameter,
                "symbol \(Excerpt.quoted(rawSymbol)) is not an underlying name (1 to \(MarketParameters.maxSymbolLength) letters, digits and & - _ ., words separated by one space)",
                field: "symbol"
            )
        }
        let symbol = rawSymbol.uppercased()
        let timeframe = try query.timeframe(default: .fiveMinutes)
        let requestedExpiries = try parseExpiries(query.string("expiries") ?? query.string("expiry"))
        let autoSubscribe = try query.bool("auto_subscribe", default: true)

        guard try await chains.hasOptions(symbol: symbol) else {
            throw APIError(.notFound, .unknownSymbol, "no options of \(Excerpt.quoted(symbol)) are known (instruments has none with that name)")
        }
        let expiries: [String]
        if let requestedExpiries {
            expiries = requestedExpiries
        } else {
            expiries = try await chains.expiries(symbol: symbol, fromDay: IndianMarket.today(), limit: settings.defaultExpiries)
        }

        var rows = try await chains.latestBars(symbol: symbol, expiries: expiries, timeframe: timeframe)
        var metadata = StrikeDistributionBody.Metadata(symbol: symbol, timeframe: timeframe.rawValue, expiries: expiries)
        if !rows.isEmpty {
            metadata.reason = "data_available"
        } else if !autoSubscribe {
            metadata.reason = "auto_subscribe_off"
        } else if !settings.smartSubscriptionEnabled {
            metadata.reason = "smart_subscription_disabled"
        } else if expiries.isEmpty {
            metadata.reason = "no_expiries"
        } else if let price = try await prices.price(symbol: symbol) {
            metadata.underlying = StrikeDistributionBody.Underlying(instrumentToken: price.instrumentToken, price: price.price, source: price.source)
            let chain = try await chains.chain(symbol: symbol, expiries: expiries)
            let around = OptionChainRepository.aroundTheMoney(chain, price: price.price, strikes: settings.strikes)
            if around.isEmpty {
                metadata.reason = "no_contracts"
            } else {
                let result = try await smartSubscription.ensureSubscribed(around.map(\.instrumentToken))
                metadata.requested = around.count
                metadata.autoSubscribed = !result.newlySubscribed.isEmpty
                metadata.newlySubscribed = result.newlySubscribed
                metadata.alreadySubscribed = result.alreadySubscribed
                metadata.failed = result.failed
                metadata.instrumentsWithData = result.instrumentsWithData
                metadata.waitedMS = Int(result.waited.components.seconds * 1000 + result.waited.components.attoseconds / 1_000_000_000_000_000)
                metadata.error = result.error
                if result.dataAvailable {
                    rows = try await chains.latestBars(symbol: symbol, expiries: expiries, timeframe: timeframe)
                }
            }
        } else {
            metadata.reason = "underlying_price_unknown"
        }
        metadata.dataAvailable = !rows.isEmpty
        return StrikeDistributionBody(series: StrikeDistributionBody.series(rows), metadata: metadata)
    }

    private func parseExpiries(_ text: String?) throws(APIError) -> [String]? {
        guard let text else { return nil }
        var days = Set<String>()
        for part in text.split(separator: ",") {
            let day = part.trimmingCharacters(in: .whitespaces)
            guard IndianMarket.parseDay(day) != nil else {
                throw APIError(
                    .badRequest, .invalidParameter, "expiries must be comma-separated dates like 2025-11-28; \(Excerpt.quoted(day)) is not one", field: "expiries"
                )
            }
            days.insert(day)
        }
        guard !days.isEmpty else { throw APIError(.badRequest, .invalidParameter, "expiries is empty") }
        guard days.count <= settings.maxExpiries else {
            throw APIError(.badRequest, .invalidParameter, "at most \(settings.maxExpiries) expiries per request, got \(days.count)")
        }
        return days.sorted()
    }
}
