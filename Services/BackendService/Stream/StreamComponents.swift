import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedRedis

/// The quote stream (`GET /api/v2/stream`, docs/stream.md), built once from configuration: the hub of clients, the
/// session that serves each, the tick reader that feeds them (its own blocking Redis connection) and the LRU use
/// recorder. `STREAM_ENABLED=false` builds none of it and serves plain HTTP.
struct StreamComponents: Sendable {
    let hub: StreamHub
    let upgrade: StreamUpgrade
    let services: [any Service]
    let settings: StreamConfiguration

    init(
        configuration: BackendConfiguration, ticksRedis: RedisClient, quotes: LiveQuotes, watchlists: any WatchlistTokens, use: any InstrumentUse,
        logger: Logger
    ) {
        let settings = configuration.stream
        self.settings = settings
        hub = StreamHub(maxClients: settings.maxClients, maxTokensPerClient: settings.maxTokensPerClient)
        let session = StreamSession(
            hub: hub, quotes: quotes, watchlists: watchlists,
            settings: .init(
                maxTokensPerMessage: settings.maxTokensPerMessage, maxQuotesPerMessage: settings.maxQuotesPerMessage,
                maxInboundBytes: settings.maxInboundBytes
            ),
            logger: logger
        )
        // Streaming records use for the cap's eviction, so it needs the key like every other change.
        upgrade = StreamUpgrade(session: session, apiKey: RequestKeyMiddleware(credentials: configuration.apiCredentials))
        services = settings.enabled
            ? [
                StreamTickReader(redis: ticksRedis, stream: configuration.common.channels.ticksStream, hub: hub, logger: logger),
                StreamUseRecorder(hub: hub, use: use, interval: settings.useInterval),
            ] : []
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        guard settings.enabled else { return }
        router.addRoutes(StreamController<BasicRequestContext>(hub: hub).endpoints)
    }

    /// The HTTP server: HTTP/1 with the stream's WebSocket upgrade (pings every `STREAM_PING_INTERVAL`; a client that
    /// does not answer is closed), or plain HTTP/1 when the stream is off.
    var server: HTTPServerBuilder {
        guard settings.enabled else { return .http1() }
        let upgrade = self.upgrade
        return .http1WebSocketUpgrade(
            configuration: .init(ws: .init(maxFrameSize: settings.maxInboundBytes, autoPing: .enabled(timePeriod: settings.pingInterval)))
        ) { head, _, _ in
            upgrade.shouldUpgrade(head)
        }
    }
}
