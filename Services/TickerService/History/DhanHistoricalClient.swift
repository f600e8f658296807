import AsyncHTTPClient
import BrokerWire
import NIOCore
import NIOHTTP1
import SharedInstruments

/// One request to Dhan's `POST /v2/charts/intraday` (headers `access-token` and `client-id`), read into a
/// ``HistoryAttempt``: Dhan's columns become ``KiteCandle``s, its errors (`{"errorType","errorCode","errorMessage"}`)
/// the retry policy's cases.
struct DhanHistoricalClient: Sendable {
    let httpClient: HTTPClient

    /// Dhan's Data APIs: 5 requests per second per client id.
    static let requestsPerSecond = 5
    /// The largest answer read (90 days of minutes is about 34,000 candles, some 3 MB).
    static let maxAnswerBytes = 64 << 20

    /// The request for `token`'s candles starting in `[from, to]` (Unix seconds); Dhan's `toDate` is exclusive, so it is
    /// `to + 1 s`.
    /// - Parameters:
    ///   - instrument: The instrument's registry row, for Dhan's `instrument` type; nil when the registry lacks it (only
    ///     indices and equities can then be asked for).
    static func request(
        token: UInt32, instrument: Instrument?, interval: KiteCandleInterval, from: Int64, to: Int64, includeOI: Bool
    ) throws(HistoryError) -> DhanChartRequest {
        guard let dhanInterval = DhanChartInterval(kite: interval) else {
            throw HistoryError(code: .invalidRequest, message: "interval \(interval.rawValue) is not served by Dhan's intraday API; use minute, 5minute, 15minute or 60minute")
        }
        guard to + 1 - from <= Int64(DhanChartInterval.maxRangeDays) * 86_400 else {
            throw HistoryError(code: .invalidRequest, message: "range too large: Dhan's intraday API allows at most \(DhanChartInterval.maxRangeDays) days per request")
        }
        let id: DhanInstrumentID
        switch DhanInstrumentMap.dhanInstrument(forKiteToken: token) {
        case .success(let mapped): id = mapped
        case .failure(let unmapped): throw HistoryError(code: .invalidRequest, message: "no Dhan history: \(unmapped.reason)")
        }
        let chartInstrument: String
        if let instrument {
            chartInstrument = DhanInstrumentMap.chartInstrument(
                forKiteToken: token, instrumentType: instrument.instrumentType, underlyingIsIndex: IndexSpot.tokens[instrument.name] != nil
            )
        } else {
            // Without the registry's row, only a segment whose every instrument has one Dhan type (indices, equities) is asked for.
            let kinds = Set([("EQ", false), ("FUT", true), ("CE", false)].map {
                DhanInstrumentMap.chartInstrument(forKiteToken: token, instrumentType: $0.0, underlyingIsIndex: $0.1)
            })
            guard kinds.count == 1, let only = kinds.first else {
                throw HistoryError(code: .invalidRequest, message: "instrument \(token) is not in the instrument registry yet; Dhan's charts API needs its instrument type")
            }
            chartInstrument = only
        }
        return DhanChartRequest(
            securityId: String(id.securityId), exchangeSegment: id.segment ?? .nseEQ, instrument: chartInstrument, interval: dhanInterval,
            oi: includeOI, fromDate: DhanChartsJSON.formatDate(from), toDate: DhanChartsJSON.formatDate(to + 1)
        )
    }

    func attempt(
        account: BrokerAccount, credentials: BrokerCredentials, request chart: DhanChartRequest, purpose: HistoryPacer.Purpose
    ) async -> HistoryAttempt<[KiteCandle]> {
        var base = account.restURL
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: "\(base)/v2/charts/intraday")
        request.method = .POST
        request.headers.add(name: "access-token", value: credentials.accessToken)
        request.headers.add(name: "client-id", value: credentials.apiKey)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: chart.jsonText()))
        let status: Int
        let body: String
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(30))
            status = Int(response.status.code)
            FeedMetrics.historyUpstream(account: account.id, status: String(status), purpose: purpose.rawValue)
            body = String(buffer: try await response.body.collect(upTo: status == 200 ? Self.maxAnswerBytes : 64 << 10))
        } catch {
            FeedMetrics.historyUpstream(account: account.id, status: "error", purpose: purpose.rawValue)
            return .failed("\(error)")
        }
        let error = DhanAPIErrorBody.parse(body)
        if status == 200, error == nil {
            do {
                return .answered(try DhanChartsJSON.parse(body))
            } catch {
                return .failed("unreadable broker answer: \(error.message)")
            }
        }
        let message = error.map { "\($0.errorCode) \($0.errorMessage)" } ?? "HTTP \(status)"
        switch (status, error?.errorCode) {
        case (429, _), (_, DhanAPIErrorBody.rateLimit?):
            return .rateLimited
        case (401, _), (403, _), (_, DhanAPIErrorBody.invalidAuthentication?), (_, DhanAPIErrorBody.invalidAccess?), (_, DhanAPIErrorBody.userAccount?):
            return .credentialsRefused(message)
        case (400..<500, _):
            return .rejected(message)
        default:
            return .failed("HTTP \(status): \(message)")
        }
    }
}
