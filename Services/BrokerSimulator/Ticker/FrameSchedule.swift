/// When a feed connection sends its next periodic frame. A writer that fell behind skips the intervals it
/// missed instead of bursting to catch up (a slow client gets fewer frames, not a backlog).
struct FrameSchedule {
    let interval: Duration
    private(set) var next: ContinuousClock.Instant

    init(interval: Duration, start: ContinuousClock.Instant) {
        self.interval = interval
        self.next = start + interval
    }

    /// Moves to the following interval after a frame was due.
    /// - Parameter now: The current time.
    /// - Returns: How many intervals were skipped because the writer fell behind.
    mutating func advance(now: ContinuousClock.Instant) -> Int {
        next += interval
        guard next <= now else { return 0 }
        let missed = Int(((now - next) / interval).rounded(.down)) + 1
        next += interval * missed
        return missed
    }

    /// Starts counting again from `now` (after a stall: no backlog is kept for afterwards).
    mutating func restart(at now: ContinuousClock.Instant) {
        next = now + interval
    }
}
