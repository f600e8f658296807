import BrokerWire
import Foundation
import SharedBasics

/// What a Kite session sends and shows of its credentials: the resubscribe requests after a (re)connect, the ticker
/// URL with the credentials in its query, and error text with them removed.
extension FeedConnection {
    /// Subscribe every token, then set every mode, batched (Kite starts new subscriptions in quote mode).
    static func resubscribeRequests(_ desired: [UInt32: KiteMode], batchSize: Int) -> [KiteRequest] {
        guard !desired.isEmpty else { return [] }
        var requests: [KiteRequest] = desired.keys.sorted().chunked(batchSize).map { .subscribe($0) }
        for mode in KiteMode.allCases {
            let tokens = desired.filter { $0.value == mode }.map(\.key).sorted()
            requests += tokens.chunked(batchSize).map { .mode(mode, $0) }
        }
        return requests
    }

    /// The ticker URL with the credentials in the query, as Kite expects them.
    static func url(_ root: String, _ credentials: BrokerCredentials) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let key = credentials.apiKey.addingPercentEncoding(withAllowedCharacters: allowed) ?? credentials.apiKey
        let token = credentials.accessToken.addingPercentEncoding(withAllowedCharacters: allowed) ?? credentials.accessToken
        var base = root
        if !base.contains("?"), let schemeEnd = base.range(of: "://"), !base[schemeEnd.upperBound...].contains("/") { base += "/" }
        return base + (base.contains("?") ? "&" : "?") + "api_key=\(key)&access_token=\(token)"
    }

    /// Error text with the secrets removed (errors may echo the URL).
    static func redacted(_ text: String, _ credentials: BrokerCredentials) -> String {
        var text = text
        for secret in [credentials.accessToken, credentials.apiKey] where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }
}
