import Foundation

/// Volume and open interest as pure functions of (seed, token, session, second).
///
/// The session's cumulative volume at minute boundary j is `D · h(p_j)`: `p_j` is j/M jittered by less than half a
/// minute (so it stays increasing) and `h` is an S-curve (busier at open and close). A minute's volume is the
/// difference of two boundaries; inside a minute the cumulative volume grows linearly, so a tick's volume and the
/// minute candle's volume always agree. OI moves monotonically through the day from a per-day opening level.
struct ActivityModel {
    let key: UInt64
    let lot: Int64
    let window: SessionWindow
    let minutes: Int
    private let dailyLots: Double
    let oiOpen: Int64
    private let oiDeltaLots: Double
    let hasOI: Bool

    init(seed: UInt64, token: UInt32, terms: InstrumentTerms, window: SessionWindow) {
        key = SimHash.mix(seed, UInt64(token), UInt64(bitPattern: window.start))
        lot = Int64(max(1, terms.lotSize))
        self.window = window
        minutes = window.minuteCount
        dailyLots = terms.dailyVolume * (0.6 + 0.8 * SimHash.unit(key ^ 1)) / Double(lot)
        hasOI = terms.kind == .future || terms.kind == .call || terms.kind == .put
        if hasOI {
            let openLots = (terms.dailyVolume * 1.5 * (0.8 + 0.4 * SimHash.unit(key ^ 2)) / Double(lot)).rounded()
            oiOpen = Int64(max(1, openLots)) * lot
            oiDeltaLots = Double(oiOpen / lot) * (-0.15 + 0.4 * SimHash.unit(key ^ 3))
        } else {
            oiOpen = 0
            oiDeltaLots = 0
        }
    }

    /// Progress through the session at minute boundary j (0...minutes), strictly increasing.
    func progress(_ j: Int) -> Double {
        if j <= 0 { return 0 }
        if j >= minutes { return 1 }
        let jitter = 0.9 * (SimHash.unit(key ^ (UInt64(j) << 8) ^ 0x55) - 0.5)
        return (Double(j) + jitter) / Double(minutes)
    }

    /// Cumulative volume at minute boundary j.
    func volume(boundary j: Int) -> Int64 {
        let p = progress(j)
        let curve = p + 0.6 * sin(2 * Double.pi * p) / (2 * Double.pi)
        return Int64((dailyLots * curve).rounded(.down)) * lot
    }

    /// Open interest at minute boundary j.
    func oi(boundary j: Int) -> Int64 {
        guard hasOI else { return 0 }
        return oiOpen + Int64((oiDeltaLots * progress(j)).rounded(.towardZero)) * lot
    }

    /// Cumulative volume at the end of `second` (a session second).
    func volume(at second: Int64) -> Int64 {
        let offset = second - window.start
        let j = Int(offset / 60)
        let k = offset % 60
        let a = volume(boundary: j), b = volume(boundary: j + 1)
        return a + (b - a) / lot * (k + 1) / 60 * lot
    }

    /// Open interest at the end of `second`.
    func oi(at second: Int64) -> Int64 {
        guard hasOI else { return 0 }
        let offset = second - window.start
        let j = Int(offset / 60)
        let k = offset % 60
        let a = oi(boundary: j), b = oi(boundary: j + 1)
        return a + (b - a) / lot * (k + 1) / 60 * lot
    }
}
