import Synchronization

/// How many historical-candle requests the simulator has served, in all and per instrument token, so that tests can
/// count the broker requests a service spent (`GET /admin/historical`). Rejected requests (bad credentials, rate
/// limit, injected faults, bad parameters) are not counted.
final class HistoricalRequestCounter: Sendable {
    private let state = Mutex<(total: Int, byToken: [UInt32: Int])>((0, [:]))

    /// Counts one served request.
    func served(token: UInt32) {
        state.withLock { state in
            state.total += 1
            state.byToken[token, default: 0] += 1
        }
    }

    /// The counts so far.
    var snapshot: (total: Int, byToken: [UInt32: Int]) { state.withLock { $0 } }
}
