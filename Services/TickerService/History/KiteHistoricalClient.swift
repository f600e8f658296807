import AsyncHTTPClient
import Foundation
import BrokerWire
import NIOCore
import NIOHTTP1
import SharedJSON

/// One request to Kite's `GET /instruments/historical/{token}/{interval}`, read into a ``HistoryAttempt``: the 200 body is
/// handed over unread, so that `/history` can stream it.
struct KiteHistoricalClient: Sendable {
    let httpClient: HTTPClient

    /// Kite's requests per second per API key.
    static let requestsPerSecond = 3

    func attempt(
        account: BrokerAccount, credentials: BrokerCredentials, token: UInt32, interval: KiteCandleInterval, from: Int64, to: Int64,
        includeOI: Bool, purpose: HistoryPacer.Purpose
    ) async -> HistoryAttempt<HTTPClientResponse.Body> {
        var base = account.restURL
        while base.hasSuffix("/") { base.removeLast() }
        var url = "\(base)/instruments/historical/\(token)/\(interval.rawValue)?from=\(Self.brokerTime(from))&to=\(Self.brokerTime(to))"
        if includeOI { url += "&oi=1" }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "X-Kite-Version", value: "3")
        request.headers.add(name: "Authorization", value: "token \(credentials.apiKey):\(credentials.accessToken)")
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: .seconds(30))
        } catch {
            FeedMetrics.historyUpstream(account: account.id, status: "error", purpose: purpose.rawValue)
            return .failed("\(error)")
        }
        let status = Int(response.status.code)
        FeedMetrics.historyUpstream(account: account.id, status: String(status), purpose: purpose.rawValue)
        if status == 200 { return .answered(response.body) }
        // An error answer is small; read at most 64 KB of it for the message.
        let body = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
        let message = Self.brokerMessage(body)
        switch status {
        case 429: return .rateLimited
        case 401, 403: return .credentialsRefused(message ?? "HTTP \(status)")
        case 400..<500: return .rejected(message ?? "HTTP \(status)")
        default: return .failed("HTTP \(status): \(message ?? "")")
        }
    }

    /// Kite's `yyyy-mm-dd hh:mm:ss` in IST, URL-encoded.
    static func brokerTime(_ unixSeconds: Int64) -> String {
        DhanChartsJSON.formatDate(unixSeconds).replacingOccurrences(of: " ", with: "%20")
    }

    /// The `message` of a Kite error body.
    static func brokerMessage(_ body: String) -> String? {
        (try? JSONValue.parse(body.utf8))?["message"]?.stringValue
    }
}
