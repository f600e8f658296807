import Synchronization

/// How many historical-candle requests the simulator has served, in all, per instrument token and per broker API (Kite's
/// `/instruments/historical`, Dhan's `/v2/charts/intraday`), so that tests can count the broker requests a service spent
/// (`GET /admin/historical`). Rejected requests (bad credentials, rate limit, injected faults, bad parameters) are not
/// counted.
final class HistoricalRequestCounter: Sendable {
    /// Which broker's historical API served a request.
    enum API: String, Sendable, CaseIterable {
        case kite
        case dhan
    }

    struct Snapshot: Sendable {
        var total = 0
        var byToken: [UInt32: Int] = [:]
        var byBroker: [API: Int] = [:]
    }

    private let state = Mutex(Snapshot())

    /// Counts one served request.
    func served(token: UInt32, api: API = .kite) {
        state.withLock { state in
            state.total += 1
            state.byToken[token, default: 0] += 1
            state.byBroker[api, default: 0] += 1
        }
    }

    /// The counts so far.
    var snapshot: Snapshot { state.withLock { $0 } }
}
