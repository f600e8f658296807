// The one table between the platform's instrument identity (Kite's `instrument_token`) and Dhan's
// `(ExchangeSegment, SecurityId)`. TickerService places, streams and fetches history through it; the simulator
// resolves Dhan requests through it, so the two cannot disagree.

/// Maps Kite instrument tokens to Dhan instruments and back.
///
/// A Kite token is `exchange_token << 8 | segment`. For exchange-traded instruments Dhan's `SecurityId` is the
/// exchange's own token, so the mapping is the segment table below with the exchange token kept. Indices are the
/// exception: Dhan numbers them itself in `IDX_I` (NIFTY is 13, BANKNIFTY 25), so they map through ``indices``.
/// Kite segments Dhan does not serve (MCX-SX, NCDEX) and indices missing from ``indices`` have no mapping, and
/// ``dhanInstrument(forKiteToken:)`` says why.
public enum DhanInstrumentMap {
    /// The Kite segment of each Dhan exchange segment, and the reverse (indices go through ``indices``).
    public static let segments: [(kite: KiteSegment, dhan: DhanExchangeSegment)] = [
        (.indices, .idxI),
        (.nse, .nseEQ),
        (.nfo, .nseFNO),
        (.cds, .nseCurrency),
        (.bse, .bseEQ),
        (.bfo, .bseFNO),
        (.mcx, .mcxComm),
        (.bcd, .bseCurrency),
    ]

    /// Indices: Kite exchange token → Dhan `IDX_I` security id, with the index's name (from Dhan's scrip master).
    public static let indices: [(kiteExchangeToken: UInt32, dhanSecurityId: UInt32, name: String)] = [
        (1001, 13, "NIFTY 50"),
        (1016, 25, "NIFTY BANK"),
        (1007, 27, "NIFTY FIN SERVICE"),
        (1125, 442, "NIFTY MID SELECT"),
        (1035, 21, "INDIA VIX"),
        (1, 51, "SENSEX"),
        (1072, 69, "BANKEX"),
    ]

    /// Why an instrument cannot be addressed on Dhan.
    public struct Unmapped: Error, Sendable, Equatable, CustomStringConvertible {
        /// The Kite token asked about.
        public var kiteToken: UInt32
        /// A sentence for logs and API errors.
        public var reason: String
        public var description: String { reason }
    }

    private static let kiteToDhanSegment: [KiteSegment: DhanExchangeSegment] = Dictionary(uniqueKeysWithValues: segments.map { ($0.kite, $0.dhan) })
    private static let dhanToKiteSegment: [DhanExchangeSegment: KiteSegment] = Dictionary(uniqueKeysWithValues: segments.map { ($0.dhan, $0.kite) })
    private static let indexByKite: [UInt32: UInt32] = Dictionary(uniqueKeysWithValues: indices.map { ($0.kiteExchangeToken, $0.dhanSecurityId) })
    private static let indexByDhan: [UInt32: UInt32] = Dictionary(uniqueKeysWithValues: indices.map { ($0.dhanSecurityId, $0.kiteExchangeToken) })

    /// The Dhan instrument of a Kite token.
    /// - Parameters:
    ///   - token: A Kite instrument token.
    /// - Returns: The Dhan segment and security id, or why there is none.
    public static func dhanInstrument(forKiteToken token: UInt32) -> Result<DhanInstrumentID, Unmapped> {
        guard let kiteSegment = KiteSegment(token: token) else {
            return .failure(Unmapped(kiteToken: token, reason: "instrument \(token) has no known Kite segment (low byte \(token & 0xff))"))
        }
        guard let segment = kiteToDhanSegment[kiteSegment] else {
            return .failure(Unmapped(kiteToken: token, reason: "instrument \(token) is in Kite segment \(kiteSegment), which Dhan does not stream"))
        }
        let exchangeToken = KiteSegment.exchangeToken(of: token)
        if segment == .idxI {
            guard let securityId = indexByKite[exchangeToken] else {
                return .failure(Unmapped(kiteToken: token, reason: "index \(token) has no Dhan IDX_I security id in the mapping table"))
            }
            return .success(DhanInstrumentID(.idxI, securityId))
        }
        return .success(DhanInstrumentID(segment, exchangeToken))
    }

    /// The Kite token of a Dhan instrument, nil when it has none (an unknown segment byte or index).
    /// - Parameters:
    ///   - id: A Dhan segment and security id, as in a packet header.
    public static func kiteToken(for id: DhanInstrumentID) -> UInt32? {
        guard let segment = id.segment, let kiteSegment = dhanToKiteSegment[segment] else { return nil }
        if segment == .idxI {
            guard let exchangeToken = indexByDhan[id.securityId] else { return nil }
            return KiteSegment.token(exchangeToken: exchangeToken, segment: .indices)
        }
        guard id.securityId <= 0x00ff_ffff else { return nil }
        return KiteSegment.token(exchangeToken: id.securityId, segment: kiteSegment)
    }

    /// The `instrument` field of Dhan's charts API for an instrument (`INDEX`, `EQUITY`, `FUTIDX`, `OPTSTK`, ...),
    /// from the Kite instrument type and whether the underlying is an index.
    /// - Parameters:
    ///   - token: A Kite instrument token.
    ///   - instrumentType: Kite's `instrument_type` (`EQ`, `FUT`, `CE`, `PE`).
    ///   - underlyingIsIndex: For derivatives: whether the underlying is an index.
    public static func chartInstrument(forKiteToken token: UInt32, instrumentType: String, underlyingIsIndex: Bool) -> String {
        let segment = KiteSegment(token: token)
        switch segment {
        case .indices: return "INDEX"
        case .nse, .bse: return "EQUITY"
        case .mcx: return instrumentType == "FUT" ? "FUTCOM" : "OPTFUT"
        case .cds, .bcd: return instrumentType == "FUT" ? "FUTCUR" : "OPTCUR"
        default:
            if instrumentType == "FUT" { return underlyingIsIndex ? "FUTIDX" : "FUTSTK" }
            return underlyingIsIndex ? "OPTIDX" : "OPTSTK"
        }
    }
}
