import BrokerWire
import Foundation
import Logging
import NIOCore

/// One instrument of a connection, in the platform's terms.
struct FeedInstrument: Sendable, Hashable {
    var token: UInt32
    var mode: KiteMode
}

/// A change to the instruments of an open connection; each broker's ``FeedWire`` writes it as its own requests.
enum FeedChange: Sendable {
    /// Instruments not yet subscribed on the connection, each in its mode.
    case subscribe([FeedInstrument])
    /// Instruments already subscribed that change mode.
    case setMode(KiteMode, [UInt32])
    /// Instruments to drop, with the mode they were streamed in (Dhan's unsubscribe code depends on it).
    case unsubscribe([FeedInstrument])
}

/// One request message for the socket, and how many instruments it subscribes (for Dhan's 804: the broker's limit is
/// at least what the messages before the refused one subscribed).
struct FeedRequestMessage: Sendable, Equatable {
    var text: String
    var subscribes: Int = 0
}

/// What a binary message from the broker is.
enum FeedInbound: Sendable, Equatable {
    /// A keep-alive with no data (Kite's 1-byte heartbeat).
    case heartbeat
    /// Market data, for the tick publisher.
    case data
    /// The broker says it is closing the socket, with its reason code (Dhan's disconnect packet: 804, 805, 808, ...).
    case disconnect(code: UInt16)
}

/// The wire protocol of one broker's ticker WebSocket: how to address it, how to write subscription changes, and how to
/// read what it sends. ``FeedConnection`` keeps the session's lifecycle (placement, backoff, watchdog, gaps) the same
/// for every broker and asks this for everything protocol-specific.
protocol FeedWire: Sendable {
    var broker: Broker { get }
    /// The WebSocket URL with the credentials where the broker expects them.
    func url(root: String, credentials: BrokerCredentials) -> String
    /// The requests that put every instrument on a freshly opened socket, each in its mode.
    func resubscribe(_ desired: [UInt32: KiteMode]) -> [FeedRequestMessage]
    /// The requests for a change while the socket is open.
    func messages(for change: FeedChange) -> [FeedRequestMessage]
    /// Classifies a binary message without decoding its ticks (that happens off the socket reader).
    func inspect(binary: ByteBuffer) -> FeedInbound
    /// Logs and counts a text message.
    func read(text: String, logger: Logger)
    /// Why this broker cannot stream a token, nil when it can.
    func refusal(of token: UInt32) -> String?
}

extension Broker {
    /// The wire protocol of this broker's ticker, with request batches of at most `batchSize` instruments (and never
    /// more than the broker allows in one message).
    func wire(batchSize: Int) -> any FeedWire {
        let size = min(batchSize, maxInstrumentsPerMessage ?? batchSize)
        switch self {
        case .kite: return KiteFeedWire(batchSize: size)
        case .dhan: return DhanFeedWire(batchSize: size)
        }
    }
}

extension FeedWire {
    /// `root` with `query` appended, each value percent-encoded (`root` gets a `/` path when it has none, as Kite's
    /// examples write it; a root that already has a query gets `&`).
    func url(_ root: String, query: [(String, String)]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let encoded = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
        var base = root
        if !base.contains("?"), let schemeEnd = base.range(of: "://"), !base[schemeEnd.upperBound...].contains("/") { base += "/" }
        return base + (base.contains("?") ? "&" : "?") + encoded.joined(separator: "&")
    }
}

extension FeedConnection {
    /// Error text with the secrets removed (errors may echo the URL).
    static func redacted(_ text: String, _ credentials: BrokerCredentials) -> String {
        var text = text
        for secret in [credentials.accessToken, credentials.apiKey] where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }
}
