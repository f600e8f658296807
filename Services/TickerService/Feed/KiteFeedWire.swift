import BrokerWire
import Foundation
import Logging
import NIOCore
import SharedBasics

/// Kite Connect's ticker protocol: credentials in the URL query, `{"a":"subscribe"|"unsubscribe"|"mode"}` requests
/// (new subscriptions start in quote mode, so a mode request follows), big-endian binary frames and a 1-byte
/// heartbeat every second when idle, and text messages for errors and order updates.
struct KiteFeedWire: FeedWire {
    let batchSize: Int
    var broker: Broker { .kite }

    func url(root: String, credentials: BrokerCredentials) -> String {
        url(root, query: [("api_key", credentials.apiKey), ("access_token", credentials.accessToken)])
    }

    /// Subscribe every token, then set every mode, batched.
    func resubscribe(_ desired: [UInt32: KiteMode]) -> [FeedRequestMessage] {
        guard !desired.isEmpty else { return [] }
        var requests = desired.keys.sorted().chunked(batchSize).map { message(.subscribe($0)) }
        for mode in KiteMode.allCases {
            let tokens = desired.filter { $0.value == mode }.map(\.key).sorted()
            requests += tokens.chunked(batchSize).map { message(.mode(mode, $0)) }
        }
        return requests
    }

    func messages(for change: FeedChange) -> [FeedRequestMessage] {
        switch change {
        case let .subscribe(items):
            var out = items.map(\.token).chunked(batchSize).map { message(.subscribe($0)) }
            for mode in KiteMode.allCases {
                out += items.filter { $0.mode == mode }.map(\.token).chunked(batchSize).map { message(.mode(mode, $0)) }
            }
            return out
        case let .setMode(mode, tokens):
            return tokens.chunked(batchSize).map { message(.mode(mode, $0)) }
        case let .unsubscribe(items):
            return items.map(\.token).chunked(batchSize).map { message(.unsubscribe($0)) }
        }
    }

    private func message(_ request: KiteRequest) -> FeedRequestMessage {
        if case let .subscribe(tokens) = request { return FeedRequestMessage(text: request.jsonText(), subscribes: tokens.count) }
        return FeedRequestMessage(text: request.jsonText())
    }

    func inspect(binary: ByteBuffer) -> FeedInbound {
        binary.readableBytes <= 1 ? .heartbeat : .data
    }

    func read(text: String, logger: Logger) {
        do {
            switch try KiteTextMessage.decode(jsonText: text) {
            case let .error(message):
                FeedMetrics.textMessage(type: "error")
                logger.error("broker error message", metadata: ["message": "\(message)"])
            case let .message(message):
                FeedMetrics.textMessage(type: "message")
                logger.info("broker message", metadata: ["message": "\(message)"])
            case .order:
                FeedMetrics.textMessage(type: "order")
                logger.debug("broker order update")
            }
        } catch {
            FeedMetrics.textMessage(type: "unknown")
            logger.warning("unreadable broker text message", metadata: ["error": "\(error)", "length": "\(text.utf8.count)"])
        }
    }

    func refusal(of token: UInt32) -> String? { nil }
}
