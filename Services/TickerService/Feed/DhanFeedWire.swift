import BrokerWire
import Foundation
import Logging
import NIOCore
import SharedBasics

/// Dhan's market feed v2: `?version=2&token=…&clientId=…&authType=2`, JSON requests whose code carries the mode (a
/// subscribe in another mode switches an instrument's packets), at most 100 instruments per message, little-endian
/// binary packets, and a disconnect packet (code 50) with the reason before the broker closes the socket.
///
/// Instruments are addressed through ``DhanInstrumentMap``; one it cannot map is refused at placement, never sent.
struct DhanFeedWire: FeedWire {
    let batchSize: Int
    var broker: Broker { .dhan }

    func url(root: String, credentials: BrokerCredentials) -> String {
        url(root, query: [("version", "2"), ("token", credentials.accessToken), ("clientId", credentials.apiKey), ("authType", "2")])
    }

    func resubscribe(_ desired: [UInt32: KiteMode]) -> [FeedRequestMessage] {
        subscribe(desired.map { FeedInstrument(token: $0.key, mode: $0.value) })
    }

    func messages(for change: FeedChange) -> [FeedRequestMessage] {
        switch change {
        case let .subscribe(items): subscribe(items)
        // Dhan has no mode request: subscribing in the new mode switches the instrument's packets.
        case let .setMode(mode, tokens): subscribe(tokens.map { FeedInstrument(token: $0, mode: mode) }, counted: false)
        case let .unsubscribe(items): requests(items) { .unsubscribe($0, $1) }
        }
    }

    private func subscribe(_ items: [FeedInstrument], counted: Bool = true) -> [FeedRequestMessage] {
        requests(items, counted: counted) { .subscribe($0, $1) }
    }

    /// One request per mode and batch, instruments in token order.
    private func requests(
        _ items: [FeedInstrument], counted: Bool = false, _ make: (DhanFeedMode, [DhanInstrument]) -> DhanRequest
    ) -> [FeedRequestMessage] {
        var out: [FeedRequestMessage] = []
        for mode in KiteMode.allCases {
            let instruments = items.filter { $0.mode == mode }.map(\.token).sorted().compactMap(Self.instrument)
            for batch in instruments.chunked(batchSize) {
                let request = make(mode.dhanMode, batch)
                out.append(FeedRequestMessage(text: request.jsonText(), subscribes: counted ? batch.count : 0))
            }
        }
        return out
    }

    static func instrument(_ token: UInt32) -> DhanInstrument? {
        guard case let .success(id) = DhanInstrumentMap.dhanInstrument(forKiteToken: token), let segment = id.segment else { return nil }
        return DhanInstrument(segment, String(id.securityId))
    }

    func inspect(binary: ByteBuffer) -> FeedInbound {
        guard let code = binary.getInteger(at: binary.readerIndex, as: UInt8.self) else { return .heartbeat }
        if code == DhanResponseCode.disconnect.rawValue {
            let reason = binary.getInteger(at: binary.readerIndex + DhanFeedCodec.headerLength, endianness: .little, as: UInt16.self) ?? 0
            return .disconnect(code: reason)
        }
        return .data
    }

    func read(text: String, logger: Logger) {
        // Dhan's feed sends no text messages; count and show the start of one if it ever does.
        FeedMetrics.textMessage(type: "unknown")
        logger.warning("unexpected text message from Dhan", metadata: ["length": "\(text.utf8.count)"])
    }

    func refusal(of token: UInt32) -> String? {
        if case let .failure(unmapped) = DhanInstrumentMap.dhanInstrument(forKiteToken: token) { return unmapped.reason }
        return nil
    }
}

extension KiteMode {
    /// The Dhan feed mode carrying the same fields: ltp is Dhan's ticker.
    var dhanMode: DhanFeedMode {
        switch self {
        case .ltp: .ticker
        case .quote: .quote
        case .full: .full
        }
    }
}

/// What a Dhan disconnect code asks of the client.
enum DhanDisconnectReason: Equatable {
    /// 806 data APIs not subscribed, 807 access token expired, 808 invalid client id, 809 authentication failed:
    /// not retried until the credentials change.
    case credentials
    /// 805: too many connections for the client id; back off.
    case tooManyConnections
    /// 804: more instruments than the connection may carry; re-place the excess.
    case tooManyInstruments
    /// Any other code: reconnect with backoff.
    case other

    init(code: UInt16) {
        switch code {
        case 806...809: self = .credentials
        case 805: self = .tooManyConnections
        case 804: self = .tooManyInstruments
        default: self = .other
        }
    }
}
