import BrokerWire
import NIOCore
import NIOHTTP1

/// Why a WebSocket upgrade is refused, and the HTTP answer the client gets.
struct UpgradeRejection: Error, Sendable {
    var status: HTTPResponseStatus
    var message: String
    /// Kite's `error_type` for the JSON body.
    var errorType: String

    static func forbidden(_ message: String) -> Self { .init(status: .forbidden, message: message, errorType: "TokenException") }
    static func tooManyRequests(_ message: String) -> Self { .init(status: .tooManyRequests, message: message, errorType: "NetworkException") }
    static func badRequest(_ message: String) -> Self { .init(status: .badRequest, message: message, errorType: "InputException") }

    var jsonBody: String {
        "{\"status\":\"error\",\"message\":\(JSONText.quoted(message)),\"error_type\":\"\(errorType)\"}"
    }
}

/// Turns hummingbird-websocket's fixed "400, empty body" answer to a declined upgrade into our status and JSON body.
///
/// hummingbird-websocket answers every declined upgrade with 400; Kite answers bad credentials with 403 and
/// too many connections with 429, and clients (the ticker service, KiteTicker) branch on that. The handler is added
/// to the pipeline from `shouldUpgrade` when we decline, and sits between Hummingbird's HTTP types codec and NIO's
/// HTTP/1 encoder.
final class UpgradeRejectionHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let rejection: UpgradeRejection

    init(_ rejection: UpgradeRejection) {
        self.rejection = rejection
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            head.status = rejection.status
            head.headers.replaceOrAdd(name: "content-type", value: "application/json")
            head.headers.replaceOrAdd(name: "content-length", value: String(rejection.jsonBody.utf8.count))
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            // The declined-upgrade answer has no body of its own; ours is written before `.end`.
            promise?.succeed(())
        case .end(let trailers):
            let body = context.channel.allocator.buffer(string: rejection.jsonBody)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        }
    }
}
