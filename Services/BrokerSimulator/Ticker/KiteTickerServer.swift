import BrokerWire
import CoreMetrics
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore

/// Kite Connect's ticker WebSocket (`wss://ws.kite.trade?api_key=..&access_token=..`) over loopback.
///
/// Upgrade: bad credentials → 403, a connection beyond `--max-connections-per-key` or an active refuse fault → 429.
/// After the upgrade the client sends `{"a":"subscribe"|"unsubscribe"|"mode","v":...}` text messages; the server sends
/// one binary frame per tick interval with a packet for every subscribed instrument in its mode, a snapshot frame right
/// after a subscribe or mode change, and a 1-byte heartbeat when it has sent nothing for a second.
struct KiteTickerServer: Sendable {
    let context: FeedContext
    let logger: Logger
    private let metrics = SimulatorMetrics.Feed(kind: .kite)

    /// Largest client text message accepted (a 3,000-token subscribe is about 30 KB).
    static let maxRequestSize = 1 << 20

    init(context: FeedContext, logger: Logger) {
        self.context = context
        self.logger = logger
    }

    /// Decides the upgrade: a registered connection, or the HTTP answer that refuses it.
    func accept(query: [String: String], channel: any Channel) -> Result<TickerConnection, UpgradeRejection> {
        guard let apiKey = query["api_key"], let accessToken = query["access_token"], !apiKey.isEmpty, !accessToken.isEmpty else {
            metrics.rejected(reason: "missing_credentials")
            return .failure(.forbidden("api_key and access_token are required"))
        }
        guard context.credentials.isValid(apiKey: apiKey, accessToken: accessToken) else {
            metrics.rejected(reason: "bad_credentials")
            logger.info("Ticker upgrade refused: bad credentials", metadata: [LogKey.apiKey: "\(apiKey)"])
            return .failure(.forbidden("Incorrect `api_key` or `access_token`."))
        }
        if context.faults.isRefusingConnections {
            metrics.rejected(reason: "refuse_fault")
            logger.info("Ticker upgrade refused: refuse fault active", metadata: [LogKey.apiKey: "\(apiKey)"])
            return .failure(.tooManyRequests("Too many requests (simulated refusal)."))
        }
        guard let connection = context.registry.open(kind: .kite, key: apiKey, limit: context.settings.maxConnectionsPerKey, channel: channel) else {
            metrics.rejected(reason: "connection_limit")
            logger.info("Ticker upgrade refused: connection limit", metadata: [LogKey.apiKey: "\(apiKey)"])
            return .failure(.tooManyRequests("Maximum \(context.settings.maxConnectionsPerKey) connections per api_key exceeded."))
        }
        metrics.accepted.increment()
        return .success(connection)
    }

    /// Runs one accepted connection until the client leaves, the connection is dropped, or the server shuts down.
    /// The writer runs as a child task of this call, so nothing outlives the WebSocket handler.
    func serve(_ connection: TickerConnection, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        var logger = self.logger
        logger[metadataKey: LogKey.connectionID] = "\(connection.id)"
        logger[metadataKey: LogKey.apiKey] = "\(connection.key)"
        logger.info("Ticker connection opened")
        defer {
            context.registry.close(id: connection.id)
            logger.info("Ticker connection closed", metadata: [LogKey.reason: connection.wasDropped ? "dropped" : "closed"])
        }
        let writerLogger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.writeLoop(connection, outbound: outbound, logger: writerLogger) }
            var snapshotEncoder = KiteFrameEncoder()
            do {
                for try await message in inbound.messages(maxSize: Self.maxRequestSize) {
                    try await waitWhileStalled(connection)
                    guard case .text(let text) = message else { continue }
                    try await handle(text, connection: connection, outbound: outbound, encoder: &snapshotEncoder, logger: logger)
                }
            } catch {
                logger.debug("Ticker connection reader ended", metadata: [LogKey.error: "\(error)"])
            }
            group.cancelAll()
        }
    }

    private func handle(
        _ text: String,
        connection: TickerConnection,
        outbound: WebSocketOutboundWriter,
        encoder: inout KiteFrameEncoder,
        logger: Logger
    ) async throws {
        let request: KiteRequest
        do {
            request = try KiteRequest.decode(jsonText: text)
        } catch {
            logger.debug("Ignoring malformed ticker request", metadata: [LogKey.error: "\(error)"])
            try await outbound.write(.text(KiteTextMessage.error("Invalid message: \(error)").jsonText()))
            return
        }
        switch request {
        case .subscribe(let tokens):
            let known = tokens.filter { context.universe.instrument(token: $0) != nil }
            if known.count < tokens.count {
                logger.debug("Ignoring subscribe for unknown tokens", metadata: [LogKey.tokens: "\(tokens.count - known.count)"])
            }
            switch connection.subscribe(known, mode: .quote, limit: context.settings.maxInstrumentsPerConnection) {
            case .subscribed(let added):
                logger.debug("Subscribed", metadata: [LogKey.tokens: "\(added.count)"])
                try await sendSnapshot(for: added, connection: connection, outbound: outbound, encoder: &encoder)
            case .limitExceeded(let current, let requested):
                logger.info(
                    "Subscribe refused: instrument limit",
                    metadata: [LogKey.tokens: "\(requested)", "subscribed": "\(current)"]
                )
                let message =
                    "Subscription limit exceeded: at most \(context.settings.maxInstrumentsPerConnection) instruments per connection "
                    + "(\(current) subscribed, \(requested) more requested)."
                try await outbound.write(.text(KiteTextMessage.error(message).jsonText()))
            }
        case .unsubscribe(let tokens):
            let removed = connection.unsubscribe(tokens)
            logger.debug("Unsubscribed", metadata: [LogKey.tokens: "\(removed)"])
        case .mode(let mode, let tokens):
            let applied = connection.setMode(mode, tokens: tokens)
            logger.debug("Mode set", metadata: [LogKey.mode: "\(mode.rawValue)", LogKey.tokens: "\(applied.count)"])
            try await sendSnapshot(for: applied, connection: connection, outbound: outbound, encoder: &encoder)
        }
    }

    /// Kite answers a subscribe or mode change with the instruments' current state at once, not at the next interval.
    private func sendSnapshot(
        for tokens: [UInt32],
        connection: TickerConnection,
        outbound: WebSocketOutboundWriter,
        encoder: inout KiteFrameEncoder
    ) async throws {
        guard !tokens.isEmpty, !connection.isStalled else { return }
        let (frame, packets) = encoder.encode(connection.entries(for: tokens), market: context.market, at: Date(), allocator: ByteBufferAllocator())
        guard packets > 0 else { return }
        try await outbound.write(.binary(frame))
        connection.recordFrame(ticks: packets)
        metrics.framesSent.increment()
        metrics.ticksSent.increment(by: packets)
    }

    private func waitWhileStalled(_ connection: TickerConnection) async throws {
        while connection.isStalled {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// One frame per tick interval (all subscribed instruments), heartbeats in the gaps. A write that takes longer than
    /// an interval (a slow client: NIO's writability backpressure suspends it) makes the loop skip the intervals it
    /// missed rather than queue frames, so memory per connection stays bounded.
    private func writeLoop(_ connection: TickerConnection, outbound: WebSocketOutboundWriter, logger: Logger) async {
        let clock = ContinuousClock()
        let session = StreamingHours(mode: context.settings.sessionMode)
        let allocator = ByteBufferAllocator()
        var encoder = KiteFrameEncoder()
        var planVersion: UInt64?
        var plan: [StreamEntry] = []
        var schedule = FrameSchedule(interval: context.settings.tickInterval, start: clock.now)
        var lastSent = clock.now
        do {
            while !Task.isCancelled {
                try await Task.sleep(until: min(schedule.next, lastSent + context.settings.heartbeatInterval), clock: clock)
                if connection.isStalled {
                    // Nothing at all goes out while stalled, and no backlog builds up for afterwards.
                    schedule.restart(at: clock.now)
                    lastSent = clock.now
                    continue
                }
                if clock.now >= schedule.next {
                    if let updated = connection.streamPlan(ifChangedSince: planVersion) {
                        planVersion = updated.version
                        plan = updated.entries
                    }
                    let date = Date()
                    if !plan.isEmpty, session.isOpen(at: date) {
                        let (frame, packets) = encoder.encode(plan, market: context.market, at: date, allocator: allocator)
                        if packets > 0 {
                            try await outbound.write(.binary(frame))
                            lastSent = clock.now
                            connection.recordFrame(ticks: packets)
                            metrics.framesSent.increment()
                            metrics.ticksSent.increment(by: packets)
                        }
                    }
                    let missed = schedule.advance(now: clock.now)
                    if missed > 0 {
                        connection.recordSkipped(missed)
                        metrics.intervalsSkipped.increment(by: missed)
                    }
                }
                if clock.now - lastSent >= context.settings.heartbeatInterval {
                    try await outbound.write(.binary(ByteBuffer(bytes: KiteTickerCodec.encodeHeartbeat())))
                    lastSent = clock.now
                    connection.recordHeartbeat()
                    metrics.heartbeatsSent.increment()
                }
            }
        } catch {
            logger.debug("Ticker connection writer ended", metadata: [LogKey.error: "\(error)"])
        }
    }
}

extension String {
    /// The query parameters of a request target (`/path?a=1&b=2`), percent-decoded; the last value of a name wins.
    var queryParameters: [String: String] {
        guard let questionMark = firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in self[index(after: questionMark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[1])) : ""
            result[name] = value
        }
        return result
    }

    /// The path of a request target without its query.
    var pathWithoutQuery: Substring {
        self[..<(firstIndex(of: "?") ?? endIndex)]
    }
}
