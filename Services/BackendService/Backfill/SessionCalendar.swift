import Foundation

/// Which minutes are trading minutes, in IST (UTC+05:30, no daylight saving).
///
/// `exchange`: NSE/NFO/BSE/BFO/CDS 09:15–15:30 and MCX 09:00–23:30, Monday to Friday (exchange holidays are not
/// modelled: a holiday is a "gap" the broker has no candles for, recorded once in `backfill_empty_ranges`).
/// `always`: every minute (the local simulator's `--session-mode always`).
struct SessionCalendar: Sendable, Hashable {
    enum Mode: String, Sendable, CaseIterable {
        case exchange
        case always
    }

    /// A daily session in minutes after IST midnight, `[open, close)`.
    struct Hours: Sendable, Hashable {
        var open: Int
        var close: Int
        static let nse = Hours(open: 9 * 60 + 15, close: 15 * 60 + 30)
        static let mcx = Hours(open: 9 * 60, close: 23 * 60 + 30)
        static let allDay = Hours(open: 0, close: 24 * 60)
    }

    static let istOffset: Int64 = 19_800

    var mode: Mode

    /// The session hours of an exchange (`MCX` keeps evening hours; everything else is NSE's).
    func hours(exchange: String?) -> Hours {
        switch mode {
        case .always: return .allDay
        case .exchange:
            let upper = (exchange ?? "").uppercased()
            return upper.hasPrefix("MCX") ? .mcx : .nse
        }
    }

    /// Whether the minute starting at `minuteStart` (Unix seconds, a multiple of 60) is a trading minute.
    func isTradingMinute(_ minuteStart: Int64, exchange: String?) -> Bool {
        if mode == .always { return true }
        let local = minuteStart + Self.istOffset
        let day = Self.floorDiv(local, 86_400)
        // 1970-01-01 was a Thursday: weekday 0 = Monday.
        let weekday = Int((day + 3) % 7 + 7) % 7
        guard weekday < 5 else { return false }
        let minuteOfDay = Int((local - day * 86_400) / 60)
        let hours = hours(exchange: exchange)
        return minuteOfDay >= hours.open && minuteOfDay < hours.close
    }

    /// The start of the window that holds the last `count` trading minutes before `end` (exclusive), or nil when there
    /// are none within `limit` back. Walks minute by minute (at most `limit`), which is cheap next to a broker call.
    func startOfLastTradingMinutes(_ count: Int, before end: Int64, exchange: String?, limit: Int64) -> Int64? {
        var minute = Self.floorDiv(end, 60) * 60 - 60
        let stop = end - limit
        var found = 0
        var earliest: Int64?
        while minute >= stop, found < count {
            if isTradingMinute(minute, exchange: exchange) {
                found += 1
                earliest = minute
            }
            minute -= 60
        }
        return earliest
    }

    /// The trading minutes in `[from, to)` (both multiples of 60).
    func tradingMinutes(from: Int64, to: Int64, exchange: String?) -> [Int64] {
        var result: [Int64] = []
        var minute = from
        while minute < to {
            if isTradingMinute(minute, exchange: exchange) { result.append(minute) }
            minute += 60
        }
        return result
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }
}
