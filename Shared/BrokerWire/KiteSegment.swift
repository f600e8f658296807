// Kite Connect exchange segments and streaming modes, as pykiteconnect's `ticker.py` defines them.

/// The exchange segment of a Kite instrument, carried in the low byte of every instrument token.
///
/// The raw values are `KiteTicker.EXCHANGE_MAP` in pykiteconnect (`bsecds` is an old alias of `bcd`).
public enum KiteSegment: UInt8, Sendable, CaseIterable {
    /// NSE cash market.
    case nse = 1
    /// NSE futures and options.
    case nfo = 2
    /// NSE currency derivatives (prices carry 7 decimal places).
    case cds = 3
    /// BSE cash market.
    case bse = 4
    /// BSE futures and options.
    case bfo = 5
    /// BSE currency derivatives (prices carry 4 decimal places).
    case bcd = 6
    /// MCX commodities.
    case mcx = 7
    /// MCX-SX.
    case mcxsx = 8
    /// Indices (not tradable; they stream the 28/32-byte index packets).
    case indices = 9
    /// NCDEX commodities (prices carry 4 decimal places). Not in pykiteconnect's GitHub `master` listing of
    /// `EXCHANGE_MAP`, but in the released kiteconnect 5.2.2, whose parser divides its prices by 10,000.
    case nco = 12

    /// Reads the segment from the low byte of an instrument token.
    /// - Parameters:
    ///   - token: A Kite instrument token (`exchangeToken << 8 | segment`).
    /// - Returns: `nil` when the low byte is not a known segment.
    @inlinable
    public init?(token: UInt32) {
        self.init(rawValue: UInt8(truncatingIfNeeded: token & 0xff))
    }

    /// How many decimal places a raw wire price carries: 7 for CDS, 4 for BCD and NCO, otherwise 2.
    @inlinable
    public var priceDecimalPlaces: Int {
        switch self {
        case .cds: 7
        case .bcd, .nco: 4
        default: 2
        }
    }

    /// The number a raw wire price is divided by to get the price: 10,000,000 for CDS, 10,000 for BCD and NCO,
    /// otherwise 100 (10 to the power of ``priceDecimalPlaces``).
    @inlinable
    public var priceDivisor: Double {
        Self.priceDivisor(decimalPlaces: priceDecimalPlaces)
    }

    /// The decimal places of any token's prices, including tokens whose low byte is not a known segment
    /// (those use 2, as `ticker.py` does).
    /// - Parameters:
    ///   - token: A Kite instrument token.
    @inlinable
    public static func priceDecimalPlaces(forToken token: UInt32) -> Int {
        KiteSegment(token: token)?.priceDecimalPlaces ?? 2
    }

    /// The price divisor for any token, including tokens whose low byte is not a known segment
    /// (those use 100, as `ticker.py` does).
    /// - Parameters:
    ///   - token: A Kite instrument token.
    @inlinable
    public static func priceDivisor(forToken token: UInt32) -> Double {
        priceDivisor(decimalPlaces: priceDecimalPlaces(forToken: token))
    }

    @inlinable
    static func priceDivisor(decimalPlaces: Int) -> Double {
        switch decimalPlaces {
        case 7: 10_000_000
        case 4: 10_000
        default: 100
        }
    }

    /// Builds an instrument token from an exchange token and a segment.
    /// - Parameters:
    ///   - exchangeToken: The exchange's own token (the upper 24 bits of the result; higher bits are dropped).
    ///   - segment: The segment stored in the low byte.
    /// - Returns: `exchangeToken << 8 | segment`.
    @inlinable
    public static func token(exchangeToken: UInt32, segment: KiteSegment) -> UInt32 {
        (exchangeToken << 8) | UInt32(segment.rawValue)
    }

    /// The exchange token of an instrument token (the upper 24 bits).
    /// - Parameters:
    ///   - token: A Kite instrument token.
    @inlinable
    public static func exchangeToken(of token: UInt32) -> UInt32 {
        token >> 8
    }
}

/// A Kite streaming mode. Ordered by how much each carries: `ltp < quote < full`.
public enum KiteMode: String, Sendable, Codable, Comparable, CaseIterable {
    /// Last traded price only (8-byte packet).
    case ltp
    /// Quote without depth (44 bytes; 28 for indices).
    case quote
    /// Everything including 5-level depth (184 bytes; 32 for indices).
    case full

    @usableFromInline
    var rank: Int {
        switch self {
        case .ltp: 0
        case .quote: 1
        case .full: 2
        }
    }

    /// Orders modes by the amount of data they carry.
    /// - Parameters:
    ///   - lhs: A mode.
    ///   - rhs: Another mode.
    @inlinable
    public static func < (lhs: KiteMode, rhs: KiteMode) -> Bool {
        lhs.rank < rhs.rank
    }
}
