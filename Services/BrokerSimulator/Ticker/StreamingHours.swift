import Foundation

/// Whether the simulated exchange is trading at a given moment.
struct StreamingHours: Sendable {
    let mode: SessionMode

    private static let ist: TimeZone = TimeZone(identifier: "Asia/Kolkata") ?? TimeZone(secondsFromGMT: 19_800)!

    /// `always`: every moment; `exchange`: 09:15–15:30 IST on Monday–Friday.
    func isOpen(at date: Date) -> Bool {
        switch mode {
        case .always:
            return true
        case .exchange:
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = Self.ist
            let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
            guard let weekday = parts.weekday, (2...6).contains(weekday), let hour = parts.hour, let minute = parts.minute else {
                return false
            }
            let minuteOfDay = hour * 60 + minute
            return minuteOfDay >= 9 * 60 + 15 && minuteOfDay < 15 * 60 + 30
        }
    }
}
