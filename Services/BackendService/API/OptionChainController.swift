import Hummingbird
import Logging
import ServiceRuntime

/// `GET /api/v2/option-chain/{symbol}?expiry=26FEB2026&strikes=25&underlying_ltp=2641.5` (seed 004): the chain around
/// the money with live quotes, implied volatility and delta (``OptionChainService``, docs/tiers.md); and
/// `GET /api/v2/atm/{symbol}?expiry=&underlying_ltp=&strikes=&centre=`: the ATM strike, the step and the window alone.
struct OptionChainController<Context: RequestContext>: Sendable {
    let chains: OptionChainService
    let defaultStrikes: Int
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("api/v2/option-chain/:symbol", use: chain)
        routes.get("api/v2/atm/:symbol", use: atm)
        return routes
    }

    @Sendable func chain(_ request: Request, context: Context) async throws -> OptionChainBody {
        let symbol = try InstrumentsController<Context>.symbol(context)
        let query = QueryReader(request)
        try query.requireOnly(["expiry", "strikes", "underlying_ltp"])
        let expiry = try query.expiry()
        let strikes = try query.int("strikes", default: defaultStrikes, in: 1...201)
        let ltp = try query.price("underlying_ltp")
        try chains.registry.requireLoaded()
        return try await APIError.answering(
            "GET /api/v2/option-chain", unavailable: "the option chain cannot be read right now", logger: logger, count: { _ in }
        ) {
            try await chains.chain(symbol: symbol, expiry: expiry, underlyingLTP: ltp, strikes: strikes)
        }
    }

    @Sendable func atm(_ request: Request, context: Context) async throws -> ATMBody {
        let symbol = try InstrumentsController<Context>.symbol(context)
        let query = QueryReader(request)
        try query.requireOnly(["expiry", "strikes", "underlying_ltp", "centre"])
        let expiry = try query.expiry()
        let strikes = try query.int("strikes", default: defaultStrikes, in: 1...201)
        let ltp = try query.price("underlying_ltp")
        let centre = try query.price("centre")
        try chains.registry.requireLoaded()
        let window = try await chains.atm.window(symbol: symbol, expiry: expiry, underlyingLTP: ltp, strikes: strikes)
        var centred = window
        if let centre { centred.atmStrike = centre }
        return ATMBody(
            symbol: window.symbol, expiry: window.expiry, underlyingLTP: window.underlyingLTP, source: window.priceSource, atmStrike: window.atmStrike,
            strikeStep: window.strikeStep, strikes: window.rows.map(\.strike),
            shouldRecalculate: Nullable(centre.map { _ in chains.atm.shouldRecalculate(window: centred, price: window.underlyingLTP) })
        )
    }
}
