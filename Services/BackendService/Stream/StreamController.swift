import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceRuntime

/// `GET /api/v2/stream` (the WebSocket upgrade; a plain GET is answered 426) and `GET /api/v2/ws/stats`
/// (docs/stream.md).
struct StreamController<Context: RequestContext>: Sendable {
    static var streamPath: String { "/api/v2/stream" }

    let hub: StreamHub

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("api/v2/stream") { _, _ -> Response in
            throw APIError(
                .upgradeRequired, "upgrade_required",
                "GET /api/v2/stream is a WebSocket: send Connection: Upgrade, Upgrade: websocket and Sec-WebSocket-Key (docs/stream.md)",
                headers: [.upgrade: "websocket"]
            )
        }
        routes.get("api/v2/ws/stats") { [hub] _, _ -> StreamStatsBody in hub.stats }
        return routes
    }
}

/// Decides a WebSocket upgrade for BackendService: only `/api/v2/stream`, and only with the API key when
/// `API_KEY_ENABLED` is on (`X-API-Key`, or the `api_key` query parameter for browsers, which cannot set headers on
/// a WebSocket; the key is never logged).
struct StreamUpgrade: Sendable {
    let session: StreamSession
    let apiKey: RequestKeyMiddleware<BasicRequestContext>

    /// Accepts the stream's upgrade; a missing or wrong key is accepted and closed at once with 1008 and the reason
    /// (a declined upgrade could only answer an empty 400).
    func shouldUpgrade(_ head: HTTPRequest) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let uri = URI(head.path ?? "/")
        guard uri.path == StreamController<BasicRequestContext>.streamPath || uri.path == StreamController<BasicRequestContext>.streamPath + "/" else {
            return .dontUpgrade
        }
        var keyed = head
        if keyed.headerFields[RequestCredential.apiKeyHeader] == nil, let key = uri.queryParameters["api_key"] {
            keyed.headerFields[RequestCredential.apiKeyHeader] = String(key)
        }
        let rejection = apiKey.rejection(of: Request(head: keyed, body: .init(buffer: ByteBuffer())))
        return .upgrade([:]) { [session] inbound, outbound, _ in
            if let rejection {
                try? await outbound.close(.policyViolation, reason: "\(rejection) (or the api_key query parameter)")
                return
            }
            await session.serve(inbound: inbound, outbound: outbound)
        }
    }
}
