import Foundation

/// Whether a bar of `GET /bars` is final: it will not change any more (docs/bars.md, "Final bars").
///
/// A minute is final when its source is `backfill` or `repaired` (the broker's candle), or when it is a `ticks`
/// minute with no pending suspect row whose close is at least the repair window (`REPAIR_WINDOW`) ago: by then every
/// feed gap touching it has been published and marked, so an unmarked tick minute is as the ticks built it for good.
/// A derived (5/15-minute) bar is final when all of its minutes are.
enum BarFinality {
    /// - Parameters:
    ///   - latestTickMinute: The start of the bar's latest `ticks` minute, nil when it has none.
    ///   - suspectTickMinutes: How many of its `ticks` minutes have a pending suspect row.
    ///   - now: The time of the answer.
    ///   - window: `REPAIR_WINDOW`.
    static func isFinal(latestTickMinute: Date?, suspectTickMinutes: Int, now: Date, window: Duration) -> Bool {
        guard suspectTickMinutes == 0 else { return false }
        guard let latestTickMinute else { return true }
        let windowSeconds = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
        return latestTickMinute.addingTimeInterval(60 + windowSeconds) <= now
    }
}
