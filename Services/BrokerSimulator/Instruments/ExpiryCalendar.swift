import BrokerWire

// Expiry dates of Indian derivatives (exchange holidays are not modelled: an expiry never moves for a holiday).
enum ExpiryCalendar {
    static let monday = 1, tuesday = 2, thursday = 4

    /// NSE's expiry weekday for contracts expiring in `year`/`month`: Tuesday from September 2025 (SEBI's
    /// harmonisation), Thursday before.
    static func nseWeekday(year: Int, month: Int) -> Int {
        (year, month) >= (2025, 9) ? tuesday : thursday
    }

    /// BSE (SENSEX, BANKEX) expires on Thursdays.
    static func bseWeekday(year: Int, month: Int) -> Int { thursday }

    /// The last `weekday` of a month.
    static func last(weekday: Int, year: Int, month: Int) -> KiteCalendarDate {
        var date = KiteCalendarDate(year: year, month: month, day: KiteCalendarDate.daysIn(month: month, year: year))
        while date.weekday != weekday { date = date.adding(days: -1) }
        return date
    }

    /// The next `count` monthly expiries (the last expiry weekday of each month) on or after `date`.
    static func monthlies(from date: KiteCalendarDate, count: Int, weekday rule: (Int, Int) -> Int) -> [KiteCalendarDate] {
        var result: [KiteCalendarDate] = []
        var (year, month) = (date.year, date.month)
        while result.count < count {
            let expiry = last(weekday: rule(year, month), year: year, month: month)
            if expiry >= date { result.append(expiry) }
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
        }
        return result
    }

    /// The next `count` weekly expiries on or after `date` (monthly expiry days included).
    static func weeklies(from date: KiteCalendarDate, count: Int, weekday rule: (Int, Int) -> Int) -> [KiteCalendarDate] {
        var result: [KiteCalendarDate] = []
        var day = date
        while result.count < count {
            if day.weekday == rule(day.year, day.month) { result.append(day) }
            day = day.adding(days: 1)
        }
        return result
    }

    /// Whether `date` is the monthly expiry of its month (decides Kite's monthly vs weekly symbol format).
    static func isMonthly(_ date: KiteCalendarDate, weekday rule: (Int, Int) -> Int) -> Bool {
        last(weekday: rule(date.year, date.month), year: date.year, month: date.month) == date
    }

    /// Monthly expiries in the given months (e.g. quarterly: 3, 6, 9, 12) after `after`, `count` of them.
    static func monthlies(inMonths months: Set<Int>, after: KiteCalendarDate, count: Int, weekday rule: (Int, Int) -> Int) -> [KiteCalendarDate] {
        var result: [KiteCalendarDate] = []
        var (year, month) = (after.year, after.month)
        while result.count < count {
            if months.contains(month) {
                let expiry = last(weekday: rule(year, month), year: year, month: month)
                if expiry > after { result.append(expiry) }
            }
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
        }
        return result
    }

    /// MCX contract expiries on or after `date`.
    static func mcx(rule: MCXExpiryRule, months: Set<Int>, from date: KiteCalendarDate, count: Int) -> [KiteCalendarDate] {
        var result: [KiteCalendarDate] = []
        var (year, month) = (date.year, date.month)
        while result.count < count {
            if months.contains(month) {
                var expiry: KiteCalendarDate
                switch rule {
                case .day(let day):
                    expiry = KiteCalendarDate(year: year, month: month, day: day)
                case .lastWeekday:
                    expiry = KiteCalendarDate(year: year, month: month, day: KiteCalendarDate.daysIn(month: month, year: year))
                }
                while expiry.weekday > 5 { expiry = expiry.adding(days: -1) }
                if expiry >= date { result.append(expiry) }
            }
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
        }
        return result
    }

    /// MCX options expire a few business days before their future.
    static func mcxOptionExpiry(beforeFuture future: KiteCalendarDate) -> KiteCalendarDate {
        var date = future
        var left = 2
        while left > 0 {
            date = date.adding(days: -1)
            if date.weekday <= 5 { left -= 1 }
        }
        return date
    }
}

/// Kite's trading-symbol formats.
enum TradingSymbol {
    private static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    private static let weeklyMonthCodes = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "O", "N", "D"]

    static func yy(_ date: KiteCalendarDate) -> String {
        let y = date.year % 100
        return y < 10 ? "0\(y)" : "\(y)"
    }

    /// `NIFTY25NOVFUT`.
    static func future(_ name: String, expiry: KiteCalendarDate) -> String {
        "\(name)\(yy(expiry))\(months[expiry.month - 1])FUT"
    }

    /// `NIFTY25NOV24500CE` (monthly) or `NIFTY25N1824500CE` (weekly: YY, month code 1-9/O/N/D, DD).
    static func option(_ name: String, expiry: KiteCalendarDate, weekly: Bool, strike: Double, type: String) -> String {
        let strikeText = KiteInstrumentCSV.formatNumber(strike)
        if weekly {
            let dd = expiry.day < 10 ? "0\(expiry.day)" : "\(expiry.day)"
            return "\(name)\(yy(expiry))\(weeklyMonthCodes[expiry.month - 1])\(dd)\(strikeText)\(type)"
        }
        return "\(name)\(yy(expiry))\(months[expiry.month - 1])\(strikeText)\(type)"
    }
}
