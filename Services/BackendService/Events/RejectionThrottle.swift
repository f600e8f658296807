import Synchronization

/// Lets the first of a kind of rejection through and counts the repeats, per key and time window: the intake logs a
/// rejection once per (source, code) window and dead-letters an identical payload (same source, code and SHA-256) once
/// per window, so a client that repeats a bad request costs a counter increment, not a log line and a stored copy each.
final class RejectionThrottle: Sendable {
    /// Whether to act on this occurrence, and how many were suppressed since the key was last let through.
    struct Decision: Sendable, Equatable {
        var pass: Bool
        var suppressedBefore: Int
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var suppressed: Int
    }

    private let windows = Mutex<[String: Window]>([:])
    /// How long after letting a key through its repeats are suppressed.
    let window: Duration
    /// Most keys remembered; beyond it expired windows are forgotten, then all (memory stays bounded whatever is sent).
    let maxKeys: Int

    /// - Parameters:
    ///   - window: Suppression window per key.
    ///   - maxKeys: Most keys remembered.
    init(window: Duration, maxKeys: Int = 4_096) {
        self.window = window
        self.maxKeys = maxKeys
    }

    /// Notes one occurrence of `key`.
    /// - Parameters:
    ///   - key: What identifies identical occurrences.
    ///   - now: The time (tests pass their own).
    func note(_ key: String, now: ContinuousClock.Instant = .now) -> Decision {
        windows.withLock { windows in
            if var open = windows[key], now - open.start < window {
                open.suppressed += 1
                windows[key] = open
                return Decision(pass: false, suppressedBefore: 0)
            }
            let suppressed = windows[key]?.suppressed ?? 0
            if windows[key] == nil, windows.count >= maxKeys {
                windows = windows.filter { now - $0.value.start < window }
                if windows.count >= maxKeys { windows.removeAll(keepingCapacity: true) }
            }
            windows[key] = Window(start: now, suppressed: 0)
            return Decision(pass: true, suppressedBefore: suppressed)
        }
    }
}
