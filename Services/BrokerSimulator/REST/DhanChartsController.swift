import BrokerWire
import Foundation
import HTTPTypes
import Hummingbird

/// Dhan's intraday candles: `POST /v2/charts/intraday` with Dhan's JSON body and `access-token`/`client-id` headers,
/// answered in Dhan's columns. The candles are the Kite historical API's for the same instrument and minutes (one market
/// model), the instrument resolved through ``DhanInstrumentMap``.
///
/// Checks run in the Kite controller's order: credentials (401 DH-901), Dhan's Data-API rate limit per client id (429
/// DH-904), injected fault (500 DH-908), parameters (400 DH-905; an unknown security 400 DH-907). `toDate` is exclusive,
/// as Dhan documents it: a candle is returned when `fromDate <= start < toDate`.
struct DhanChartsController<Context: RequestContext>: Sendable {
    /// Dhan's Data APIs: 5 requests per second per client id.
    static var requestsPerSecond: Int { 5 }

    /// The market, universe, credentials and faults the Kite API serves from too; served requests count in
    /// `GET /admin/historical` as `by_broker.dhan`.
    let source: HistoricalCandleSource
    /// Dhan's limit, ``requestsPerSecond`` per client id: the Kite API's limiter with Dhan's budget.
    let rateLimiter: HistoricalRateLimiter

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("v2/charts/intraday") { request, context in
            try await intraday(request: request, context: context)
        }
        return routes
    }

    func intraday(request: Request, context: Context) async throws -> Response {
        let clientID = request.headers[HTTPField.Name("client-id")!] ?? ""
        let accessToken = request.headers[HTTPField.Name("access-token")!] ?? ""
        guard source.credentials.isValid(apiKey: clientID, accessToken: accessToken) else { throw DhanAPIError.invalidAuthentication }
        guard rateLimiter.allow(apiKey: clientID) else { throw DhanAPIError.rateLimited }
        if source.faults.consumeHistoricalFailure() {
            throw DhanAPIError(.internalServerError, "Internal_Server_Error", DhanAPIErrorBody.internalServerError, "Server was not able to process API request (injected fault).")
        }
        var request = request
        let body = try await request.collectBody(upTo: 64 << 10)
        let chart: DhanChartRequest
        do {
            chart = try DhanChartRequest.decode(jsonText: String(buffer: body))
        } catch {
            throw DhanAPIError.input(error.message)
        }
        guard let securityID = UInt32(chart.securityId) else { throw DhanAPIError.input("securityId must be a number, got '\(chart.securityId)'") }
        guard let token = DhanInstrumentMap.kiteToken(for: DhanInstrumentID(chart.exchangeSegment, securityID)),
              let expected = source.universe.dhanChartInstrument(token: token)
        else {
            throw DhanAPIError.data("no data for securityId \(chart.securityId) in \(chart.exchangeSegment.name)")
        }
        guard chart.instrument == expected else {
            throw DhanAPIError.input("instrument \(chart.instrument) does not match securityId \(chart.securityId) (\(expected))")
        }
        guard let from = DhanChartsJSON.parseDate(chart.fromDate) else { throw DhanAPIError.input("fromDate must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss") }
        guard let to = DhanChartsJSON.parseDate(chart.toDate) else { throw DhanAPIError.input("toDate must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss") }
        guard from < to else { throw DhanAPIError.input("fromDate must be before toDate") }
        guard to - from <= Int64(DhanChartInterval.maxRangeDays) * 86_400 else {
            throw DhanAPIError.input("only \(DhanChartInterval.maxRangeDays) days of data can be polled at once")
        }
        let candles = source.market.candles(
            token: token, minutes: chart.interval.rawValue, from: Date(timeIntervalSince1970: TimeInterval(from)),
            to: Date(timeIntervalSince1970: TimeInterval(to - 1)), includeOI: chart.oi, asOf: source.now()
        )
        source.counter.served(token: token, api: .dhan)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: DhanChartsJSON.encode(candles, includeOI: chart.oi)))
        )
    }
}
