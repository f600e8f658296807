import Synchronization

/// Faults that tests switch on through `/admin/faults/...`: refusing new ticker connections and failing the next
/// historical-candle calls. Per-connection faults (drop, stall) act on the connection itself (see ``TickerConnection``).
final class FaultInjector: Sendable {
    private struct State {
        var refuseUntil: ContinuousClock.Instant?
        var historicalFailuresLeft = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Refuse new ticker and Dhan connections with 429 for `duration` from now.
    func refuseConnections(for duration: Duration) {
        let until = ContinuousClock.now + duration
        state.withLock { $0.refuseUntil = until }
    }

    /// Whether new connections are refused right now.
    var isRefusingConnections: Bool {
        state.withLock { state in
            guard let until = state.refuseUntil else { return false }
            if ContinuousClock.now < until { return true }
            state.refuseUntil = nil
            return false
        }
    }

    /// Time left in the refusal window, nil when not refusing.
    var refusalRemaining: Duration? {
        state.withLock { state in
            guard let until = state.refuseUntil else { return nil }
            let left = until - ContinuousClock.now
            return left > .zero ? left : nil
        }
    }

    /// Make the next `count` historical calls fail (adds to any failures still pending).
    func failHistoricalCalls(count: Int) {
        state.withLock { $0.historicalFailuresLeft += max(0, count) }
    }

    /// Historical failures still pending.
    var historicalFailuresPending: Int { state.withLock { $0.historicalFailuresLeft } }

    /// Clears the refusal window and pending historical failures.
    func reset() {
        state.withLock { $0 = State() }
    }
}

extension FaultInjector: HistoricalFaults {
    /// Called by the historical controller once per request: true means "fail this one".
    func consumeHistoricalFailure() -> Bool {
        state.withLock { state in
            guard state.historicalFailuresLeft > 0 else { return false }
            state.historicalFailuresLeft -= 1
            return true
        }
    }
}
