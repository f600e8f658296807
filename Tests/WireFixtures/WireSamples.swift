// Seeded sample generators for the wire formats. The codec tests, the fuzz tests and the decode benchmark share them,
// so the data each uses is the same for a given seed on every machine. A test-support target: not in BrokerWire.
import BrokerWire

/// A small, fast, seedable random number generator (SplitMix64). Same seed, same sequence, everywhere.
public struct WireRandom: RandomNumberGenerator, Sendable {
    /// The generator state.
    public var state: UInt64

    /// Creates a generator.
    /// - Parameters:
    ///   - seed: The seed; equal seeds give equal sequences.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    /// - Returns: A random value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Varied, seeded sample data and corruptions for the Kite and Dhan codecs.
public enum WireSamples {
    /// A value biased towards the edges (0, 1, max) with ordinary values in between.
    /// - Parameters:
    ///   - rng: The random source.
    ///   - max: The largest value.
    public static func edgy(_ rng: inout WireRandom, max: UInt32) -> UInt32 {
        switch rng.next() % 16 {
        case 0: 0
        case 1: 1
        case 2: max
        case 3: max - 1
        case 4...9: UInt32.random(in: 0...min(max, 100_000), using: &rng)
        default: UInt32.random(in: 0...max, using: &rng)
        }
    }

    /// A random instrument token: mostly known segments, sometimes an unknown low byte.
    /// - Parameters:
    ///   - rng: The random source.
    public static func kiteToken(_ rng: inout WireRandom) -> UInt32 {
        let exchangeToken = edgy(&rng, max: 0xFF_FFFF)
        if rng.next() % 10 == 0 {
            return (exchangeToken << 8) | UInt32(UInt8.random(in: 0...255, using: &rng))
        }
        return KiteSegment.token(exchangeToken: exchangeToken, segment: KiteSegment.allCases.randomElement(using: &rng)!)
    }

    /// A random Kite tick in any mode and layout, with every field the layout carries filled in, and the fields it
    /// does not carry left zero, so `decode(encode(tick)) == tick`.
    /// - Parameters:
    ///   - rng: The random source.
    ///   - mode: A fixed mode, or `nil` for a random one.
    ///   - nonNegativePrices: Keep prices in `0...Int32.max` (pykiteconnect reads prices as unsigned).
    public static func kiteTick(_ rng: inout WireRandom, mode: KiteMode? = nil, nonNegativePrices: Bool = true) -> KiteTick {
        let token = kiteToken(&rng)
        let mode = mode ?? KiteMode.allCases.randomElement(using: &rng)!
        func price(_ rng: inout WireRandom) -> Int32 {
            let magnitude = Int32(truncatingIfNeeded: edgy(&rng, max: UInt32(Int32.max)))
            return !nonNegativePrices && rng.next() % 8 == 0 ? -magnitude : magnitude
        }
        func u32(_ rng: inout WireRandom) -> UInt32 { edgy(&rng, max: .max) }
        var tick = KiteTick(instrumentToken: token, mode: mode, lastPrice: price(&rng))
        switch mode {
        case .ltp:
            tick.isIndex = token & 0xff == UInt32(KiteSegment.indices.rawValue)
        case .quote, .full:
            // Index layout mostly for the indices segment, sometimes for others (the layout follows the length).
            let segmentIsIndex = token & 0xff == UInt32(KiteSegment.indices.rawValue)
            tick.isIndex = rng.next() % 10 == 0 ? !segmentIsIndex : segmentIsIndex
            tick.open = price(&rng)
            tick.high = price(&rng)
            tick.low = price(&rng)
            tick.close = price(&rng)
            if tick.isIndex {
                tick.change = Int32(bitPattern: u32(&rng))
                if mode == .full { tick.exchangeTimestamp = u32(&rng) }
            } else {
                tick.lastTradedQuantity = u32(&rng)
                tick.averageTradedPrice = price(&rng)
                tick.volumeTraded = u32(&rng)
                tick.totalBuyQuantity = u32(&rng)
                tick.totalSellQuantity = u32(&rng)
                if mode == .full {
                    tick.lastTradeTime = u32(&rng)
                    tick.oi = u32(&rng)
                    tick.oiDayHigh = u32(&rng)
                    tick.oiDayLow = u32(&rng)
                    tick.exchangeTimestamp = u32(&rng)
                    func level(_ rng: inout WireRandom) -> KiteDepthEntry {
                        KiteDepthEntry(quantity: u32(&rng), price: price(&rng), orders: UInt16(truncatingIfNeeded: u32(&rng)))
                    }
                    tick.depth = KiteDepth(buy: (0..<5).map { _ in level(&rng) }, sell: (0..<5).map { _ in level(&rng) })
                }
            }
        }
        return tick
    }

    /// A realistic full-mode (non-index) tick, as a busy NSE/NFO feed carries.
    /// - Parameters:
    ///   - rng: The random source.
    public static func kiteFullTick(_ rng: inout WireRandom) -> KiteTick {
        let segment: KiteSegment = rng.next() % 2 == 0 ? .nse : .nfo
        let token = KiteSegment.token(exchangeToken: UInt32.random(in: 1...0xFF_FFFF, using: &rng), segment: segment)
        let ltp = Int32.random(in: 1_000...5_000_000, using: &rng)
        let levels = { (rng: inout WireRandom, sign: Int32) -> [KiteDepthEntry] in
            (0..<5).map { i in
                KiteDepthEntry(
                    quantity: UInt32.random(in: 1...10_000, using: &rng), price: ltp + sign * Int32(i + 1) * 5,
                    orders: UInt16.random(in: 1...200, using: &rng))
            }
        }
        return KiteTick(
            instrumentToken: token, mode: .full, lastPrice: ltp,
            lastTradedQuantity: UInt32.random(in: 1...1_000, using: &rng), averageTradedPrice: ltp - 7,
            volumeTraded: UInt32.random(in: 0...50_000_000, using: &rng),
            totalBuyQuantity: UInt32.random(in: 0...1_000_000, using: &rng),
            totalSellQuantity: UInt32.random(in: 0...1_000_000, using: &rng),
            open: ltp - 100, high: ltp + 500, low: ltp - 700, close: ltp - 50,
            lastTradeTime: 1_767_000_000 + UInt32.random(in: 0...100_000, using: &rng),
            oi: UInt32.random(in: 0...5_000_000, using: &rng), oiDayHigh: 5_000_000, oiDayLow: 0,
            exchangeTimestamp: 1_767_000_000 + UInt32.random(in: 0...100_000, using: &rng),
            depth: KiteDepth(buy: levels(&rng, -1), sell: levels(&rng, 1)))
    }

    /// A random finite float: mostly prices with two decimals, sometimes any finite bit pattern.
    /// - Parameters:
    ///   - rng: The random source.
    public static func dhanPrice(_ rng: inout WireRandom) -> Float {
        switch rng.next() % 8 {
        case 0: return 0
        case 1:
            while true {
                let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
                if f.isFinite { return f }
            }
        default:
            return Float(Int.random(in: 0...10_000_000, using: &rng)) / 100
        }
    }

    /// A random Dhan packet of any kind, with known and unknown segment bytes.
    /// - Parameters:
    ///   - rng: The random source.
    public static func dhanPacket(_ rng: inout WireRandom) -> DhanPacket {
        let segment: UInt8 = rng.next() % 10 == 0
            ? UInt8.random(in: 0...255, using: &rng)
            : DhanExchangeSegment.allCases.randomElement(using: &rng)!.rawValue
        let id = DhanInstrumentID(exchangeSegment: segment, securityId: edgy(&rng, max: .max))
        func u32(_ rng: inout WireRandom) -> UInt32 { edgy(&rng, max: .max) }
        func u16(_ rng: inout WireRandom) -> UInt16 { UInt16(truncatingIfNeeded: edgy(&rng, max: .max)) }
        switch rng.next() % 7 {
        case 0:
            return .ticker(DhanTicker(instrument: id, lastPrice: dhanPrice(&rng), lastTradeTime: u32(&rng)))
        case 1:
            return .quote(DhanQuote(
                instrument: id, lastPrice: dhanPrice(&rng), lastTradedQuantity: u16(&rng), lastTradeTime: u32(&rng),
                averagePrice: dhanPrice(&rng), volume: u32(&rng), totalSellQuantity: u32(&rng), totalBuyQuantity: u32(&rng),
                open: dhanPrice(&rng), close: dhanPrice(&rng), high: dhanPrice(&rng), low: dhanPrice(&rng)))
        case 2:
            return .oi(id, oi: u32(&rng))
        case 3:
            return .previousClose(id, price: dhanPrice(&rng), oi: u32(&rng))
        case 4:
            let depth = (0..<5).map { _ in
                DhanDepthLevel(
                    bidQuantity: u32(&rng), askQuantity: u32(&rng), bidOrders: u16(&rng), askOrders: u16(&rng),
                    bidPrice: dhanPrice(&rng), askPrice: dhanPrice(&rng))
            }
            let quote = DhanQuote(
                instrument: id, lastPrice: dhanPrice(&rng), lastTradedQuantity: u16(&rng), lastTradeTime: u32(&rng),
                averagePrice: dhanPrice(&rng), volume: u32(&rng), totalSellQuantity: u32(&rng), totalBuyQuantity: u32(&rng),
                open: dhanPrice(&rng), close: dhanPrice(&rng), high: dhanPrice(&rng), low: dhanPrice(&rng))
            return .full(DhanFull(quote: quote, oi: u32(&rng), oiDayHigh: u32(&rng), oiDayLow: u32(&rng), depth: depth))
        case 5:
            return .marketStatus(id)
        default:
            let codes: [UInt16] = [805, 806, 807, 808, 809]
            return .disconnect(id, code: rng.next() % 2 == 0 ? codes.randomElement(using: &rng)! : u16(&rng))
        }
    }

    /// A corrupted copy of a frame: bit flips, byte overwrites, truncation, extension, cut-and-splice,
    /// or a rewritten length field.
    /// - Parameters:
    ///   - frame: The frame to corrupt.
    ///   - rng: The random source.
    /// - Returns: The corrupted bytes (possibly empty).
    public static func mutate(_ frame: [UInt8], _ rng: inout WireRandom) -> [UInt8] {
        var out = frame
        let rounds = Int(rng.next() % 4) + 1
        for _ in 0..<rounds {
            switch rng.next() % 8 {
            case 0 where !out.isEmpty:
                let i = Int(rng.next() % UInt64(out.count))
                out[i] ^= UInt8(1) << UInt8(rng.next() % 8)
            case 1 where !out.isEmpty:
                out[Int(rng.next() % UInt64(out.count))] = UInt8(truncatingIfNeeded: rng.next())
            case 2:
                out.removeLast(Int(rng.next() % UInt64(out.count + 1)))
            case 3:
                for _ in 0..<Int(rng.next() % 40) { out.append(UInt8(truncatingIfNeeded: rng.next())) }
            case 4 where out.count >= 2:
                // Rewrite a 16-bit field somewhere with an edge value (count or length prefixes).
                let i = Int(rng.next() % UInt64(out.count - 1))
                let value: UInt16 = [0, 1, 7, 8, 9, 28, 32, 44, 162, 183, 184, 185, 0xFFFF].randomElement(using: &rng)!
                out[i] = UInt8(value >> 8)
                out[i + 1] = UInt8(truncatingIfNeeded: value)
            case 5 where !out.isEmpty:
                let from = Int(rng.next() % UInt64(out.count))
                let to = from + Int(rng.next() % UInt64(out.count - from + 1))
                out.removeSubrange(from..<to)
            case 6 where !out.isEmpty:
                let from = Int(rng.next() % UInt64(out.count))
                let to = from + Int(rng.next() % UInt64(min(out.count - from, 64) + 1))
                out.insert(contentsOf: out[from..<to], at: Int(rng.next() % UInt64(out.count + 1)))
            default:
                out = randomBytes(&rng, maxCount: 64)
            }
        }
        return out
    }

    /// Random bytes of random length.
    /// - Parameters:
    ///   - rng: The random source.
    ///   - maxCount: The largest length.
    public static func randomBytes(_ rng: inout WireRandom, maxCount: Int) -> [UInt8] {
        (0..<Int(rng.next() % UInt64(maxCount + 1))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// A fuzz case for the Kite decoder: a valid frame of 1–4 packets, a mutated one, or random bytes.
    /// - Parameters:
    ///   - rng: The random source.
    public static func kiteFuzzFrame(_ rng: inout WireRandom) -> [UInt8] {
        switch rng.next() % 10 {
        case 0: return randomBytes(&rng, maxCount: 300)
        case 1: return KiteTickerCodec.encodeFrame((0..<Int(rng.next() % 4 + 1)).map { _ in kiteTick(&rng) })
        default:
            let valid = KiteTickerCodec.encodeFrame((0..<Int(rng.next() % 4 + 1)).map { _ in kiteTick(&rng) })
            return mutate(valid, &rng)
        }
    }

    /// A fuzz case for the Dhan decoder: a valid message of 1–3 packets, a mutated one, or random bytes.
    /// - Parameters:
    ///   - rng: The random source.
    public static func dhanFuzzMessage(_ rng: inout WireRandom) -> [UInt8] {
        switch rng.next() % 10 {
        case 0: return randomBytes(&rng, maxCount: 200)
        case 1: return DhanFeedCodec.encode((0..<Int(rng.next() % 3 + 1)).map { _ in dhanPacket(&rng) })
        default:
            let valid = DhanFeedCodec.encode((0..<Int(rng.next() % 3 + 1)).map { _ in dhanPacket(&rng) })
            return mutate(valid, &rng)
        }
    }
}
