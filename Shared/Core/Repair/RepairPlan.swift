/// A minute of an instrument waiting to be repaired from the broker's candle (BackendService's `suspect_minutes`).
public struct SuspectMinute: Sendable, Hashable {
    /// The instrument.
    public var instrumentToken: Int64
    /// Start of the minute, epoch seconds.
    public var minute: Int64
    /// The reasons that marked it (``FeedGap/Reason`` raw values), first one first.
    public var reasons: [String]
    /// Earlier repair attempts that found no candle or failed.
    public var attempts: Int

    /// Creates a suspect minute.
    /// - Parameters:
    ///   - instrumentToken: The instrument.
    ///   - minute: Start of the minute, epoch seconds.
    ///   - reasons: The reasons that marked it.
    ///   - attempts: Earlier attempts.
    public init(instrumentToken: Int64, minute: Int64, reasons: [String], attempts: Int) {
        self.instrumentToken = instrumentToken
        self.minute = minute
        self.reasons = reasons
        self.attempts = attempts
    }
}

/// One broker request of the repair: the minutes `[first, last]` of one instrument, and which of them are suspect
/// (only those are written; a non-suspect minute inside the span costs nothing extra and is left alone).
public struct RepairRequest: Sendable, Equatable {
    /// The instrument.
    public var instrumentToken: Int64
    /// First minute asked for, epoch seconds.
    public var first: Int64
    /// Last minute asked for, epoch seconds.
    public var last: Int64
    /// The suspect minutes it covers, in time order.
    public var minutes: [SuspectMinute]

    /// Minutes the request spans.
    public var spanMinutes: Int { Int((last - first) / 60) + 1 }
}

/// Groups due suspect minutes into as few broker requests as possible: per instrument, minutes in order, a new
/// request only when the next minute is more than `maxHoleMinutes` after the previous one or the span would exceed
/// `maxSpanMinutes`. Contiguous minutes (a stall, a long gap's tick minutes) are always one request. Shared so that
/// `Benchmarks repair` computes the broker cost with the code the service runs.
public enum RepairPlan {
    /// Holes up to this many minutes are fetched over rather than costing another request.
    public static let defaultMaxHoleMinutes = 30
    /// The longest span of one request: Kite's range for minute candles, 60 days (`to - from` stays under it, so the
    /// candle source sends it as one broker request). The repair takes at most this span of one instrument per look.
    public static let defaultMaxSpanMinutes = 60 * 1_440 - 1

    /// The take rule of `SuspectMinuteStore.takeDue`, in Swift for `Benchmarks repair` and the tests (the SQL does the
    /// same; MinuteRepairTests checks it against PostgreSQL): the `instruments` instruments whose oldest due minute is
    /// oldest, and of each all its due minutes from its earliest due one, at most `perInstrument` of them, within
    /// `maxSpanMinutes` (one request's range).
    /// - Parameters:
    ///   - due: Due minutes with the time each became due (`next_attempt_at`), any order, at most one per (instrument, minute).
    /// - Returns: The minutes taken, by instrument token, then time.
    public static func take(
        due: [(minute: SuspectMinute, dueAt: Int64)], instruments: Int, perInstrument: Int, maxSpanMinutes: Int = defaultMaxSpanMinutes
    ) -> [SuspectMinute] {
        var oldest: [Int64: Int64] = [:]
        var byToken: [Int64: [SuspectMinute]] = [:]
        for (minute, dueAt) in due {
            oldest[minute.instrumentToken] = min(oldest[minute.instrumentToken] ?? .max, dueAt)
            byToken[minute.instrumentToken, default: []].append(minute)
        }
        let chosen = oldest.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(max(0, instruments)).map(\.key).sorted()
        var taken: [SuspectMinute] = []
        for token in chosen {
            let minutes = byToken[token, default: []].sorted { $0.minute < $1.minute }
            guard let first = minutes.first?.minute else { continue }
            taken += minutes.prefix { $0.minute < first + Int64(maxSpanMinutes) * 60 }.prefix(max(0, perInstrument))
        }
        return taken
    }

    /// Groups minutes into requests.
    /// - Parameters:
    ///   - minutes: Due minutes, any order, at most one per (instrument, minute).
    ///   - maxHoleMinutes: The longest run of non-suspect minutes inside one request.
    ///   - maxSpanMinutes: The most minutes one request spans.
    /// - Returns: Requests ordered by instrument token, then time.
    public static func requests(
        for minutes: [SuspectMinute], maxHoleMinutes: Int = defaultMaxHoleMinutes, maxSpanMinutes: Int = defaultMaxSpanMinutes
    ) -> [RepairRequest] {
        let byToken = Dictionary(grouping: minutes, by: \.instrumentToken)
        var requests: [RepairRequest] = []
        for token in byToken.keys.sorted() {
            let sorted = byToken[token, default: []].sorted { $0.minute < $1.minute }
            var current: RepairRequest?
            for minute in sorted {
                if var open = current {
                    let hole = (minute.minute - open.last) / 60 - 1
                    let span = (minute.minute - open.first) / 60 + 1
                    if hole <= Int64(maxHoleMinutes), span <= Int64(maxSpanMinutes) {
                        open.last = max(open.last, minute.minute)
                        open.minutes.append(minute)
                        current = open
                        continue
                    }
                    requests.append(open)
                }
                current = RepairRequest(instrumentToken: token, first: minute.minute, last: minute.minute, minutes: [minute])
            }
            if let current { requests.append(current) }
        }
        return requests
    }
}
