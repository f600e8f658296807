import Foundation
import ServiceRuntime
import Synchronization

/// What the Tier B preload did, for `GET /api/v2/subscriptions/status` and the log.
struct TierBReportBody: Encodable, Sendable {
    struct Skipped: Encodable, Sendable, Equatable {
        var symbol: String
        var reason: String
    }

    /// `disabled`, `waiting_for_prices`, `subscribing`, `loaded`, `failed`.
    var state: String
    var instruments: Int
    var skipped: [Skipped]
    /// From the start to loaded, waiting for prices included.
    var durationMs: Nullable<Int>
    /// From the moment the prices were known (or the wait gave up) to loaded: the subscribing alone.
    var subscribeMs: Nullable<Int> = nil

    enum CodingKeys: String, CodingKey {
        case state, instruments, skipped
        case durationMs = "duration_ms"
        case subscribeMs = "subscribe_ms"
    }
}

/// The preload's latest report, shared between the preloader and the status endpoint.
final class TierBReport: Sendable {
    private let current: Mutex<TierBReportBody>

    init(enabled: Bool) {
        current = Mutex(TierBReportBody(state: enabled ? "waiting_for_prices" : "disabled", instruments: 0, skipped: [], durationMs: nil))
    }

    var body: TierBReportBody { current.withLock { $0 } }

    func update(_ change: (inout TierBReportBody) -> Void) { current.withLock { change(&$0) } }
}
