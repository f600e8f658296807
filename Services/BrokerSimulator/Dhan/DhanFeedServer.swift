import BrokerWire
import CoreMetrics
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore

/// Dhan's v2 market feed (`wss://api-feed.dhan.co?version=2&token=..&clientId=..&authType=2`) at `/dhan`, over the same
/// simulated market as the Kite ticker.
///
/// Instruments are addressed as Dhan does, by exchange segment name and `SecurityId`, resolved through
/// ``DhanInstrumentMap``: an exchange-traded `SecurityId` is the instrument's Kite `exchange_token` (so `NSE_EQ`/`2885` is
/// Kite token `2885 << 8 | 1`), an index has Dhan's own `IDX_I` id (NIFTY 50 is 13). A subscribe or unsubscribe message
/// with more than 100 instruments gets the disconnect packet with code 804 (see ``refuseOversizedMessage(_:outbound:logger:)``). As on Dhan, failures after
/// the upgrade are reported with a disconnect packet (code 50) carrying Dhan's reason code, then the socket closes;
/// every packet goes out as its own binary message, little-endian, as `dhanhq`'s `marketfeed` reads them.
struct DhanFeedServer: Sendable {
    let context: FeedContext
    let logger: Logger
    private let metrics = SimulatorMetrics.Feed(kind: .dhan)

    /// Dhan's disconnect reason codes.
    enum DisconnectReason: UInt16 {
        case instrumentLimitExceeded = 804
        case tooManyConnections = 805
        case authenticationFailed = 808
    }

    init(context: FeedContext, logger: Logger) {
        self.context = context
        self.logger = logger
    }

    /// What the upgrade leads to.
    enum Admission {
        case serve(TickerConnection)
        /// Dhan accepts the socket and then says why it closes it.
        case disconnect(DisconnectReason)
    }

    func accept(query: [String: String], channel: any Channel) -> Result<Admission, UpgradeRejection> {
        guard query["version"] == "2" else {
            metrics.rejected(reason: "dhan_version")
            return .failure(.badRequest("only version=2 is supported"))
        }
        if context.faults.isRefusingConnections {
            metrics.rejected(reason: "refuse_fault")
            return .failure(.tooManyRequests("Too many requests (simulated refusal)."))
        }
        guard let clientID = query["clientId"], let token = query["token"], context.credentials.isValid(apiKey: clientID, accessToken: token) else {
            metrics.rejected(reason: "bad_credentials")
            return .success(.disconnect(.authenticationFailed))
        }
        guard let connection = context.registry.open(kind: .dhan, key: clientID, limit: context.settings.dhanMaxConnections, channel: channel) else {
            metrics.rejected(reason: "connection_limit")
            return .success(.disconnect(.tooManyConnections))
        }
        metrics.accepted.increment()
        return .success(.serve(connection))
    }

    /// Sends the disconnect packet for a refused admission; the handler's return then closes the socket.
    ///
    /// Dhan checks the token after it has accepted the socket, so its disconnect packet comes a moment after the
    /// upgrade. The simulator waits that moment too (`refusalDelay`). Sent at once, the packet and the close frame
    /// would share a TCP segment with the 101 response, and swift-websocket's client (which the tests use) then
    /// sometimes never finishes the upgrade (seen about once in ten tries on a loaded machine).
    func refuse(_ reason: DisconnectReason, outbound: WebSocketOutboundWriter) async {
        logger.info("Dhan connection refused", metadata: [LogKey.reason: "\(reason.rawValue)"])
        try? await Task.sleep(for: Self.refusalDelay)
        try? await outbound.write(.binary(Self.disconnectPacket(reason)))
    }

    /// How long after the upgrade a refused connection gets its disconnect packet.
    static let refusalDelay: Duration = .milliseconds(100)

    static func disconnectPacket(_ reason: DisconnectReason) -> ByteBuffer {
        ByteBuffer(bytes: DhanFeedCodec.encode(.disconnect(DhanInstrumentID(exchangeSegment: 0, securityId: 0), code: reason.rawValue)))
    }

    func serve(_ connection: TickerConnection, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        var logger = self.logger
        logger[metadataKey: LogKey.connectionID] = "\(connection.id)"
        logger[metadataKey: LogKey.feed] = "dhan"
        logger.info("Dhan connection opened")
        defer {
            context.registry.close(id: connection.id)
            logger.info("Dhan connection closed")
        }
        let writerLogger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.writeLoop(connection, outbound: outbound, logger: writerLogger) }
            do {
                reading: for try await message in inbound.messages(maxSize: KiteTickerServer.maxRequestSize) {
                    while connection.isStalled { try await Task.sleep(for: .milliseconds(50)) }
                    guard case .text(let text) = message else { continue }
                    let request: DhanRequest
                    do {
                        request = try DhanRequest.decode(jsonText: text)
                    } catch {
                        logger.debug("Ignoring malformed Dhan request", metadata: [LogKey.error: "\(error)"])
                        continue
                    }
                    if let count = request.instrumentCount, count > DhanRequest.maxInstrumentsPerMessage {
                        try await refuseOversizedMessage(count, outbound: outbound, logger: logger)
                        break reading
                    }
                    switch request {
                    case .disconnect:
                        break reading
                    case .subscribe(let mode, let instruments):
                        let tokens = instruments.compactMap(kiteToken)
                        switch connection.subscribe(tokens, mode: mode.kiteMode, overrideExisting: true, limit: context.settings.dhanMaxInstrumentsPerConnection) {
                        case .subscribed:
                            try await sendPackets(for: connection.entries(for: tokens), outbound: outbound, connection: connection, withPreviousClose: true)
                        case .limitExceeded:
                            try await outbound.write(.binary(Self.disconnectPacket(.instrumentLimitExceeded)))
                            break reading
                        }
                    case .unsubscribe(_, let instruments):
                        connection.unsubscribe(instruments.compactMap(kiteToken))
                    }
                }
            } catch {
                logger.debug("Dhan connection reader ended", metadata: [LogKey.error: "\(error)"])
            }
            group.cancelAll()
        }
    }

    /// The Kite token of a Dhan instrument (through ``DhanInstrumentMap``), nil when the universe has no such instrument.
    private func kiteToken(_ instrument: DhanInstrument) -> UInt32? {
        guard let securityID = UInt32(instrument.securityId),
              let token = DhanInstrumentMap.kiteToken(for: DhanInstrumentID(instrument.segment, securityID))
        else { return nil }
        return context.universe.instrument(token: token) != nil ? token : nil
    }

    /// Dhan allows at most 100 instruments per JSON message and does not document what it does with more. The simulator
    /// answers as it does to other instrument limits: the disconnect packet with 804 ("requested number of instruments
    /// exceeds limit"), then the close; nothing of the message is applied.
    private func refuseOversizedMessage(_ count: Int, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        metrics.rejected(reason: "instruments_per_message")
        logger.info("Dhan message lists more than 100 instruments; disconnecting", metadata: [LogKey.reason: "804", "instruments": "\(count)"])
        try await outbound.write(.binary(Self.disconnectPacket(.instrumentLimitExceeded)))
    }

    private func sendPackets(
        for entries: [StreamEntry],
        outbound: WebSocketOutboundWriter,
        connection: TickerConnection,
        withPreviousClose: Bool = false
    ) async throws {
        guard !connection.isStalled else { return }
        let date = Date()
        var scratch: [UInt8] = []
        scratch.reserveCapacity(DhanResponseCode.full.packetLength)
        var sent = 0
        for entry in entries {
            guard let snapshot = context.market.snapshot(token: entry.token, at: date), let id = entry.dhanID else { continue }
            var packets: [DhanPacket] = []
            if withPreviousClose {
                packets.append(.previousClose(id, price: Float(snapshot.close), oi: UInt32(clamping: snapshot.oi)))
            }
            packets.append(DhanPacket(entry: entry, id: id, snapshot: snapshot))
            for packet in packets {
                scratch.removeAll(keepingCapacity: true)
                DhanFeedCodec.append(packet, to: &scratch)
                try await outbound.write(.binary(ByteBuffer(bytes: scratch)))
            }
            sent += 1
        }
        if sent > 0 {
            connection.recordFrame(ticks: sent)
            metrics.framesSent.increment()
            metrics.ticksSent.increment(by: sent)
        }
    }

    /// One packet per subscribed instrument each interval; skips intervals it could not keep up with (see the Kite writer).
    private func writeLoop(_ connection: TickerConnection, outbound: WebSocketOutboundWriter, logger: Logger) async {
        let clock = ContinuousClock()
        let session = StreamingHours(mode: context.settings.sessionMode)
        var planVersion: UInt64?
        var plan: [StreamEntry] = []
        var schedule = FrameSchedule(interval: context.settings.tickInterval, start: clock.now)
        do {
            while !Task.isCancelled {
                try await Task.sleep(until: schedule.next, clock: clock)
                if !connection.isStalled, session.isOpen(at: Date()) {
                    if let updated = connection.streamPlan(ifChangedSince: planVersion) {
                        planVersion = updated.version
                        plan = updated.entries
                    }
                    try await sendPackets(for: plan, outbound: outbound, connection: connection)
                }
                let missed = schedule.advance(now: clock.now)
                if missed > 0 {
                    connection.recordSkipped(missed)
                    metrics.intervalsSkipped.increment(by: missed)
                }
            }
        } catch {
            logger.debug("Dhan connection writer ended", metadata: [LogKey.error: "\(error)"])
        }
    }
}

extension DhanFeedMode {
    /// The Kite mode carrying the same fields (ticker ≈ ltp).
    var kiteMode: KiteMode {
        switch self {
        case .ticker: .ltp
        case .quote: .quote
        case .full: .full
        }
    }
}

extension DhanRequest {
    /// How many instruments a subscribe or unsubscribe message lists; nil for a disconnect.
    var instrumentCount: Int? {
        switch self {
        case .subscribe(_, let list), .unsubscribe(_, let list): list.count
        case .disconnect: nil
        }
    }
}

extension StreamEntry {
    /// The Dhan address of this instrument, from the one mapping table (an index carries Dhan's `IDX_I` id, NIFTY 13).
    var dhanID: DhanInstrumentID? {
        try? DhanInstrumentMap.dhanInstrument(forKiteToken: token).get()
    }
}

extension DhanPacket {
    /// The Dhan packet for a snapshot in an entry's mode.
    init(entry: StreamEntry, id: DhanInstrumentID, snapshot: MarketSnapshot) {
        let lastTradeTime = UInt32(clamping: Int64(snapshot.lastTradeTime.timeIntervalSince1970))
        let quote = DhanQuote(
            instrument: id, lastPrice: Float(snapshot.lastPrice), lastTradedQuantity: UInt16(clamping: snapshot.lastTradedQuantity),
            lastTradeTime: lastTradeTime, averagePrice: Float(snapshot.averagePrice), volume: UInt32(clamping: snapshot.volume),
            totalSellQuantity: UInt32(clamping: snapshot.totalSellQuantity), totalBuyQuantity: UInt32(clamping: snapshot.totalBuyQuantity),
            open: Float(snapshot.open), close: Float(snapshot.close), high: Float(snapshot.high), low: Float(snapshot.low)
        )
        switch entry.mode {
        case .ltp:
            self = .ticker(DhanTicker(instrument: id, lastPrice: Float(snapshot.lastPrice), lastTradeTime: lastTradeTime))
        case .quote:
            self = .quote(quote)
        case .full:
            let levels = (0..<5).map { index -> DhanDepthLevel in
                let bid = index < snapshot.buyDepth.count ? snapshot.buyDepth[index] : nil
                let ask = index < snapshot.sellDepth.count ? snapshot.sellDepth[index] : nil
                return DhanDepthLevel(
                    bidQuantity: UInt32(clamping: bid?.quantity ?? 0), askQuantity: UInt32(clamping: ask?.quantity ?? 0),
                    bidOrders: UInt16(clamping: bid?.orders ?? 0), askOrders: UInt16(clamping: ask?.orders ?? 0),
                    bidPrice: Float(bid?.price ?? 0), askPrice: Float(ask?.price ?? 0)
                )
            }
            self = .full(
                DhanFull(
                    quote: quote, oi: UInt32(clamping: snapshot.oi), oiDayHigh: UInt32(clamping: snapshot.oiDayHigh),
                    oiDayLow: UInt32(clamping: snapshot.oiDayLow), depth: levels
                )
            )
        }
    }
}
