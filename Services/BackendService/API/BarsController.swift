import Foundation
import Hummingbird
import Logging
import ServiceRuntime
import SharedBasics

/// `GET /bars?instrument_token=N|tradingsymbol=S&exchange=E&from=&to=&timeframe=1min|5min|15min` (docs/bars.md).
struct BarsController<Context: RequestContext>: Sendable {
    let repository: BarRepository
    /// Most bars one answer may cover (`BARS_MAX_POINTS`).
    let maxPoints: Int
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("bars", use: bars)
        return routes
    }

    @Sendable func bars(_ request: Request, context: Context) async throws -> BarsBody {
        try await APIError.answering(
            "GET /bars", unavailable: "bars cannot be read right now", logger: logger, count: MarketMetrics.bars(outcome:)
        ) {
            try await answer(QueryReader(request))
        }
    }

    private func answer(_ query: QueryReader) async throws -> BarsBody {
        let selector = try selector(query)
        let timeframe = try query.timeframe(default: .oneMinute)
        let to = try query.instant("to") ?? Date()
        // Without `from`: the last day, or as much of it as one answer may hold.
        let from = try query.instant("from") ?? to.addingTimeInterval(-Double(min(86_400, Int64(maxPoints - 1) * timeframe.seconds)))
        guard from <= to else {
            throw APIError(.badRequest, .invalidParameter, "from (\(from.formatted(.iso8601))) is after to (\(to.formatted(.iso8601)))")
        }
        let points = Int64(to.timeIntervalSince(from)) / timeframe.seconds + 1
        guard points <= Int64(maxPoints) else {
            let span = Int64(maxPoints) * timeframe.seconds / 60
            throw APIError(
                .badRequest, .rangeTooLarge,
                "the range covers \(points) \(timeframe.rawValue) bars; at most \(maxPoints) per request (\(span) minutes): narrow from/to or use a larger timeframe"
            )
        }
        let instrument = try await resolve(selector)
        let bars = try await repository.bars(token: instrument.instrumentToken, from: from, to: to, timeframe: timeframe)
        return BarsBody(instrument: instrument, timeframe: timeframe.rawValue, from: from, to: to, bars: bars)
    }

    private enum Selector {
        case token(Int64)
        case symbol(String, exchange: String)
    }

    private func selector(_ query: QueryReader) throws(APIError) -> Selector {
        let choices = MarketParameters.exchanges.joined(separator: ", ")
        let exchange = try query.choice("exchange", oneOf: choices)
        if let exchange, !MarketParameters.exchanges.contains(exchange.uppercased()) {
            throw APIError(.badRequest, .invalidParameter, "exchange must be one of \(choices), not \(Excerpt.quoted(exchange))", field: "exchange")
        }
        if let token = try query.int64("instrument_token") { return .token(token) }
        guard let symbol = query.name("tradingsymbol").map({ $0.trimmingCharacters(in: .whitespaces) }), !symbol.isEmpty else {
            throw APIError(.badRequest, .missingParameter, "give instrument_token, or tradingsymbol and exchange")
        }
        guard let exchange else {
            throw APIError(.badRequest, .missingParameter, "exchange is required with tradingsymbol (e.g. NSE, NFO, BSE, MCX)")
        }
        return .symbol(symbol, exchange: exchange)
    }

    private func resolve(_ selector: Selector) async throws -> InstrumentRef {
        switch selector {
        case .token(let token):
            guard let instrument = try await repository.instrument(token: token) else {
                throw APIError(.notFound, .unknownInstrument, "instrument_token \(token) is not a known instrument and has no bars")
            }
            return instrument
        case .symbol(let symbol, let exchange):
            guard let instrument = try await repository.instrument(tradingsymbol: symbol, exchange: exchange) else {
                throw APIError(.notFound, .unknownInstrument, "no instrument \(Excerpt.quoted(symbol)) on \(exchange.uppercased())")
            }
            return instrument
        }
    }
}
