import BrokerWire
import Foundation

/// A trading day in India (IST). The universe is generated for one of these.
struct TradingDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The day as the dump writes it.
    var calendarDate: KiteCalendarDate
    var year: Int { calendarDate.year }
    var month: Int { calendarDate.month }
    var day: Int { calendarDate.day }

    init(year: Int, month: Int, day: Int) {
        calendarDate = KiteCalendarDate(year: year, month: month, day: day)
    }

    init(_ date: KiteCalendarDate) {
        calendarDate = date
    }

    /// Parses `yyyy-mm-dd`.
    init?(iso: String) {
        guard let date = KiteCalendarDate(iso: iso) else { return nil }
        self.init(date)
    }

    /// Today's date in India.
    static func todayIST(now: Date = Date()) -> TradingDate {
        let local = Int64(now.timeIntervalSince1970.rounded(.down)) + ISTClock.offsetSeconds
        return TradingDate(KiteCalendarDate(daysSinceEpoch: Int(local.floorDiv(86_400))))
    }

    var daysSinceEpoch: Int { calendarDate.daysSinceEpoch }
    var iso: String { calendarDate.iso }
    var description: String { iso }

    static func < (lhs: TradingDate, rhs: TradingDate) -> Bool { lhs.calendarDate < rhs.calendarDate }
}

/// IST arithmetic on Unix seconds (IST has no daylight saving, so it is a fixed offset).
enum ISTClock {
    static let offsetSeconds: Int64 = 19_800

    /// Days since 1970-01-01 of the IST calendar day containing `unixSecond`.
    static func dayIndex(of unixSecond: Int64) -> Int64 {
        (unixSecond + offsetSeconds).floorDiv(86_400)
    }

    /// Unix second of IST midnight starting day `dayIndex`.
    static func midnight(ofDay dayIndex: Int64) -> Int64 {
        dayIndex * 86_400 - offsetSeconds
    }

    /// Unix second of `hh:mm` IST on `date`.
    static func unixSecond(_ date: KiteCalendarDate, hour: Int, minute: Int) -> Int64 {
        midnight(ofDay: Int64(date.daysSinceEpoch)) + Int64(hour * 3600 + minute * 60)
    }

    /// ISO weekday (1 = Monday) of an IST day index.
    static func weekday(ofDay dayIndex: Int64) -> Int {
        let w = Int((dayIndex % 7 + 7) % 7)
        return (w + 3) % 7 + 1
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    func floorDiv(_ d: Int64) -> Int64 {
        self >= 0 ? self / d : (self - d + 1) / d
    }
}
