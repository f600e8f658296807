import BrokerWire

/// The compact field/value form of one tick, written to the `{prefix}:ticks` stream and the latest-quote hash
/// (docs/feed.md, "Tick stream entry").
///
/// Prices are exact decimal strings made from the wire integers (no floating point): 2 places for most segments,
/// 7 for CDS, 4 for BCD/NCO.
enum TickEntry {
    /// Every field a tick entry may carry, so that a mode downgrade can clear the ones that no longer apply.
    static let allFields = ["tk", "m", "lp", "rt", "ltq", "atp", "v", "tbq", "tsq", "o", "h", "l", "c", "ch", "ltt", "oi", "oih", "oil", "ets", "d"]

    /// The fields of `tick`, in a fixed order.
    /// - Parameters:
    ///   - tick: The decoded tick.
    ///   - receivedAtMillis: When its frame arrived (epoch ms).
    static func fields(_ tick: KiteTick, receivedAtMillis: Int64) -> [(String, String)] {
        let scale = priceScale(token: tick.instrumentToken)
        func price(_ raw: Int32) -> String { decimal(raw, scale: scale) }
        var out: [(String, String)] = [
            ("tk", String(tick.instrumentToken)),
            ("m", tick.mode.rawValue),
            ("lp", price(tick.lastPrice)),
            ("rt", String(receivedAtMillis)),
        ]
        guard tick.mode != .ltp else { return out }
        if tick.isIndex {
            out += [("o", price(tick.open)), ("h", price(tick.high)), ("l", price(tick.low)), ("c", price(tick.close)), ("ch", price(tick.change))]
            if tick.mode == .full { out.append(("ets", String(tick.exchangeTimestamp))) }
            return out
        }
        out += [
            ("ltq", String(tick.lastTradedQuantity)), ("atp", price(tick.averageTradedPrice)), ("v", String(tick.volumeTraded)),
            ("tbq", String(tick.totalBuyQuantity)), ("tsq", String(tick.totalSellQuantity)),
            ("o", price(tick.open)), ("h", price(tick.high)), ("l", price(tick.low)), ("c", price(tick.close)),
        ]
        guard tick.mode == .full else { return out }
        out += [
            ("ltt", String(tick.lastTradeTime)), ("oi", String(tick.oi)), ("oih", String(tick.oiDayHigh)), ("oil", String(tick.oiDayLow)),
            ("ets", String(tick.exchangeTimestamp)),
        ]
        if let depth = tick.depth { out.append(("d", depthJSON(depth, scale: scale))) }
        return out
    }

    /// `{"b":[[price,qty,orders],...5],"s":[...5]}`, prices as JSON numbers.
    static func depthJSON(_ depth: KiteDepth, scale: Int) -> String {
        var out = "{\"b\":["
        out.reserveCapacity(200)
        func side(_ entries: [KiteDepthEntry]) {
            for (index, entry) in entries.enumerated() {
                if index > 0 { out += "," }
                out += "["
                out += decimal(entry.price, scale: scale)
                out += ","
                out += String(entry.quantity)
                out += ","
                out += String(entry.orders)
                out += "]"
            }
        }
        side(depth.buy)
        out += "],\"s\":["
        side(depth.sell)
        out += "]}"
        return out
    }

    /// Decimal places of a token's prices (the divisor's power of ten).
    static func priceScale(token: UInt32) -> Int {
        switch token & 0xff {
        case 3: 7
        case 6, 12: 4
        default: 2
        }
    }

    private static let powers: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

    /// `raw / 10^scale` as an exact decimal string, e.g. `(2451235, 2)` → `24512.35`, `(-5, 2)` → `-0.05`.
    static func decimal(_ raw: Int32, scale: Int) -> String {
        guard scale > 0 else { return String(raw) }
        let magnitude = Int64(raw).magnitude
        let divisor = UInt64(powers[scale])
        let fraction = String(magnitude % divisor)
        let padded = String(repeating: "0", count: scale - fraction.count) + fraction
        return (raw < 0 ? "-" : "") + String(magnitude / divisor) + "." + padded
    }
}
