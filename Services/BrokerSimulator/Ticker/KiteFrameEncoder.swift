import BrokerWire
import Foundation
import NIOCore

/// Builds Kite binary frames (`[count:UInt16][len:UInt16][packet]...`, big-endian) from market snapshots.
///
/// One encoder lives per connection and keeps its scratch buffer between frames, so a steady stream of 3,000
/// full-mode packets (about 550 KB a frame) does not reallocate it every interval.
struct KiteFrameEncoder {
    private var scratch: [UInt8] = []

    init() {}

    /// Encodes one frame for `entries` as the market stands at `date`. Tokens the market has no snapshot for are left out.
    /// - Returns: The frame, and how many packets it holds (0 means "send nothing").
    mutating func encode(
        _ entries: some Collection<StreamEntry>,
        market: MarketModel,
        at date: Date,
        allocator: ByteBufferAllocator
    ) -> (frame: ByteBuffer, packets: Int) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(0)
        scratch.append(0)
        let exchangeTimestamp = UInt32(clamping: Int64(date.timeIntervalSince1970))
        var packets = 0
        for entry in entries {
            guard packets < KiteTickerCodec.maxPacketsPerFrame,
                let snapshot = market.snapshot(token: entry.token, at: date)
            else { continue }
            let tick = KiteTick(entry: entry, snapshot: snapshot, exchangeTimestamp: exchangeTimestamp)
            let length = KiteTickerCodec.packetLength(mode: entry.mode, isIndex: entry.isIndex)
            scratch.append(UInt8(truncatingIfNeeded: length >> 8))
            scratch.append(UInt8(truncatingIfNeeded: length))
            KiteTickerCodec.appendPacket(tick, to: &scratch)
            packets += 1
        }
        scratch[0] = UInt8(truncatingIfNeeded: packets >> 8)
        scratch[1] = UInt8(truncatingIfNeeded: packets)
        guard packets > 0 else { return (ByteBuffer(), 0) }
        var buffer = allocator.buffer(capacity: scratch.count)
        buffer.writeBytes(scratch)
        return (buffer, packets)
    }
}

extension KiteTick {
    /// The wire form of a market snapshot in an entry's mode (prices in raw units of the token's segment).
    init(entry: StreamEntry, snapshot: MarketSnapshot, exchangeTimestamp: UInt32) {
        let token = entry.token
        func raw(_ price: Double) -> Int32 { KiteTick.rawPrice(price, token: token) }
        func depth(_ levels: [DepthLevel]) -> [KiteDepthEntry] {
            var result = levels.prefix(KiteDepth.levels).map {
                KiteDepthEntry(quantity: UInt32(clamping: $0.quantity), price: raw($0.price), orders: UInt16(clamping: $0.orders))
            }
            while result.count < KiteDepth.levels { result.append(KiteDepthEntry()) }
            return result
        }
        let isFullEquity = entry.mode == .full && !entry.isIndex
        self.init(
            instrumentToken: token,
            mode: entry.mode,
            isIndex: entry.isIndex,
            lastPrice: raw(snapshot.lastPrice),
            lastTradedQuantity: UInt32(clamping: snapshot.lastTradedQuantity),
            averageTradedPrice: raw(snapshot.averagePrice),
            volumeTraded: UInt32(clamping: snapshot.volume),
            totalBuyQuantity: UInt32(clamping: snapshot.totalBuyQuantity),
            totalSellQuantity: UInt32(clamping: snapshot.totalSellQuantity),
            open: raw(snapshot.open),
            high: raw(snapshot.high),
            low: raw(snapshot.low),
            close: raw(snapshot.close),
            change: raw(snapshot.lastPrice - snapshot.close),
            lastTradeTime: UInt32(clamping: Int64(snapshot.lastTradeTime.timeIntervalSince1970)),
            oi: UInt32(clamping: snapshot.oi),
            oiDayHigh: UInt32(clamping: snapshot.oiDayHigh),
            oiDayLow: UInt32(clamping: snapshot.oiDayLow),
            exchangeTimestamp: exchangeTimestamp,
            depth: isFullEquity ? KiteDepth(buy: depth(snapshot.buyDepth), sell: depth(snapshot.sellDepth)) : nil
        )
    }
}
