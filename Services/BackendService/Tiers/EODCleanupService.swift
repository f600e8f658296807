import Foundation
import Logging
import ServiceLifecycle

/// Runs ``EODCleanup`` at `EOD_CLEANUP_TIME` (IST) on trading days (Monday to Friday; exchange holidays are not
/// modelled). A service that starts after the time on a trading day whose cleanup has not run catches up at once.
/// The clock is injected (`now`), so tests run a day's schedule in milliseconds; no scheduler library.
struct EODCleanupService: Service {
    let cleanup: EODCleanup
    /// Minutes after midnight IST.
    let cleanupMinute: Int
    let now: @Sendable () -> Date
    var checkInterval: Duration = .seconds(15)
    let logger: Logger

    static let ist = TimeZone(identifier: "Asia/Kolkata")!

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var done: String?
            while !Task.isCancelled {
                if let day = dueDay(at: now()), day != done {
                    do {
                        _ = try await cleanup.run(day: day, trigger: "schedule", force: false)
                        done = day
                    } catch is CancellationError {
                        return
                    } catch {
                        logger.error("end-of-day cleanup failed; it is retried", metadata: ["trading_day": "\(day)", LogKey.error: "\(error)"])
                    }
                }
                try? await Task.sleep(for: checkInterval)
            }
        }
    }

    /// The trading day (`yyyy-MM-dd`, IST) whose cleanup is due at `date`, or nil (a weekend, or before the time).
    func dueDay(at date: Date) -> String? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.ist
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
        guard let weekday = parts.weekday, (2...6).contains(weekday), let hour = parts.hour, let minute = parts.minute,
            hour * 60 + minute >= cleanupMinute, let year = parts.year, let month = parts.month, let day = parts.day
        else { return nil }
        return Self.dayText(year: year, month: month, day: day)
    }

    /// Today in IST, `yyyy-MM-dd`.
    static func today(_ date: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ist
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return dayText(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }

    static func dayText(year: Int, month: Int, day: Int) -> String {
        let pad = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(pad(month))-\(pad(day))"
    }
}
