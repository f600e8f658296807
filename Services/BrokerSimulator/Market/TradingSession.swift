// Which seconds are trading seconds. `SessionMode` (Configuration/AppArguments.swift) picks exchange hours or always-open.

/// One day's session: Unix seconds [start, end).
struct SessionWindow: Sendable, Hashable {
    var start: Int64
    var end: Int64

    var minuteCount: Int { Int((end - start) / 60) }
}

enum TradingSessions {
    /// The session on IST day `day`, or nil when there is none (weekends, in `.exchange` mode).
    static func window(day: Int64, venue: TradingVenue, mode: SessionMode) -> SessionWindow? {
        let midnight = ISTClock.midnight(ofDay: day)
        switch mode {
        case .always:
            return SessionWindow(start: midnight, end: midnight + 86_400)
        case .exchange:
            guard ISTClock.weekday(ofDay: day) <= 5 else { return nil }
            switch venue {
            case .equity: return SessionWindow(start: midnight + 9 * 3600 + 15 * 60, end: midnight + 15 * 3600 + 30 * 60)
            case .commodity: return SessionWindow(start: midnight + 9 * 3600, end: midnight + 23 * 3600 + 30 * 60)
            }
        }
    }

    /// The last trading second at or before `second`, with its session (before a day's open this is the previous session's close).
    static func effective(_ second: Int64, venue: TradingVenue, mode: SessionMode) -> (second: Int64, window: SessionWindow) {
        var day = ISTClock.dayIndex(of: second)
        if let window = window(day: day, venue: venue, mode: mode), second >= window.start {
            return (min(second, window.end - 1), window)
        }
        while true {
            day -= 1
            if let window = window(day: day, venue: venue, mode: mode) { return (window.end - 1, window) }
        }
    }

    /// The session before the one that starts at `window.start`.
    static func previous(_ window: SessionWindow, venue: TradingVenue, mode: SessionMode) -> SessionWindow {
        var day = ISTClock.dayIndex(of: window.start)
        while true {
            day -= 1
            if let previous = self.window(day: day, venue: venue, mode: mode) { return previous }
        }
    }
}
