import Foundation
import SharedInstruments
import Hummingbird
import Logging
import ServiceRuntime
import SharedBasics

/// `GET /api/v2/instruments/search?q=REL&limit=20` and `GET /api/v2/instruments/{symbol}/expiries` (seed 004), answered
/// from the in-memory ``InstrumentRegistry``.
struct InstrumentsController<Context: RequestContext>: Sendable {
    let registry: InstrumentRegistry
    let logger: Logger

    static var maxQueryLength: Int { 64 }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("api/v2/instruments/search", use: search)
        routes.get("api/v2/instruments/:symbol/expiries", use: expiries)
        routes.get("api/v2/instruments/token/:token", use: byToken)
        return routes
    }

    @Sendable func search(_ request: Request, context: Context) async throws -> InstrumentSearchBody {
        let query = QueryReader(request)
        try query.requireOnly(["q", "limit", "exchange", "instrument_type"])
        guard let text = query.name("q")?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            throw APIError(.badRequest, .missingParameter, "q is required (part of a trading symbol or name, e.g. REL)", field: "q")
        }
        guard text.count <= Self.maxQueryLength else {
            throw APIError(.badRequest, .invalidParameter, "q may have at most \(Self.maxQueryLength) characters", field: "q")
        }
        let limit = try query.int("limit", default: 20, in: 1...200)
        let exchange = try query.nonEmpty("exchange")?.uppercased()
        if let exchange, !MarketParameters.exchanges.contains(exchange) {
            throw APIError(
                .badRequest, .invalidParameter, "exchange must be one of \(MarketParameters.exchanges.joined(separator: ", ")), not \(Excerpt.quoted(exchange, limit: 20))",
                field: "exchange"
            )
        }
        let type = try query.nonEmpty("instrument_type")?.uppercased()
        if let type, !Self.instrumentTypes.contains(type) {
            throw APIError(
                .badRequest, .invalidParameter, "instrument_type must be one of \(Self.instrumentTypes.joined(separator: ", ")), not \(Excerpt.quoted(type, limit: 20))",
                field: "instrument_type"
            )
        }
        try registry.requireLoaded()
        let results = registry.search(text, limit: limit, exchange: exchange, instrumentType: type)
        return InstrumentSearchBody(query: text, results: results.map { InstrumentBody(instrument: $0) }, count: results.count)
    }

    @Sendable func expiries(_ request: Request, context: Context) async throws -> ExpiriesBody {
        try QueryReader(request).requireOnly([])
        let symbol = try Self.symbol(context)
        try registry.requireLoaded()
        guard registry.isUnderlying(symbol) || !registry.futures(underlying: symbol).isEmpty else {
            throw APIError(.notFound, .unknownSymbol, "\(Excerpt.quoted(symbol, limit: 64)) has no listed options or futures")
        }
        let snapshot = registry.snapshot
        let expiries = registry.expiries(underlying: symbol)
        let details = expiries.map { expiry in
            let strikes = snapshot.strikes(underlying: symbol, expiry: expiry)
            return ExpiriesBody.Detail(expiry: expiry, strikes: strikes.count, strikeStep: Nullable(InstrumentIndex.strikeStep(strikes)))
        }
        let futures = registry.futures(underlying: symbol).compactMap(\.expiry)
        return ExpiriesBody(symbol: symbol, expiries: expiries, details: details, futures: futures, count: expiries.count)
    }

    @Sendable func byToken(_ request: Request, context: Context) async throws -> InstrumentBody {
        try QueryReader(request).requireOnly([])
        let text = context.parameters.get("token") ?? ""
        guard let token = Int64(text), token > 0, token <= Int64(UInt32.max) else {
            throw APIError(
                .badRequest, .invalidParameter, "the token must be an instrument token (a positive integer up to \(UInt32.max)), not \(Excerpt.quoted(text, limit: 20))",
                field: "token"
            )
        }
        try registry.requireLoaded()
        guard let instrument = registry.instrument(token: token) else {
            throw APIError(.notFound, .unknownInstrument, "instrument \(token) is not in the instrument registry")
        }
        return InstrumentBody(instrument: instrument)
    }

    /// The `instrument_type` values a search may filter on.
    static var instrumentTypes: [String] { ["EQ", "FUT", "CE", "PE"] }

    /// The path's underlying, uppercased, checked as `symbol=` is everywhere else.
    static func symbol(_ context: Context) throws(APIError) -> String {
        let raw = (context.parameters.get("symbol") ?? "").removingPercentEncoding ?? ""
        guard MarketParameters.isUnderlyingName(raw) else {
            throw APIError(
                .badRequest, .invalidParameter,
                "the symbol \(Excerpt.quoted(raw, limit: 64)) is not an underlying name (1 to \(MarketParameters.maxSymbolLength) letters, digits and & - _ .)",
                field: "symbol"
            )
        }
        return raw.uppercased()
    }
}
