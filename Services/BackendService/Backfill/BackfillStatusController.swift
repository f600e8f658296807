import Hummingbird
import ServiceRuntime

/// `GET /internal/backfill/status`: what backfill is doing now and how the last periodic cycle went.
///
/// `{"flags":{...},"queue":{"queued","running":[tokens],"running_count","completed","failed","coalesced","fetches"},
/// "current_cycle":{...}|null,"last_cycle":{...}|null,"cycles":N,"recent_failures":[{"instrument_token","error","at"}]}`
struct BackfillStatusController<Context: RequestContext>: Sendable {
    let queue: BackfillQueue
    let board: BackfillProgressBoard
    let configuration: BackfillConfiguration

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("internal/backfill/status") { _, _ in
            status()
        }
        return routes
    }

    func status() -> BackfillStatusBody {
        let snapshot = queue.snapshot
        return BackfillStatusBody(
            flags: BackfillStatusBody.Flags(
                subscriptionEventsEnabled: configuration.eventsEnabled,
                immediateOnSubscribe: configuration.immediateOnSubscribe,
                subscriptionAware: configuration.subscriptionAware,
                session: configuration.session.rawValue,
                historySource: configuration.historySource.rawValue,
                concurrency: configuration.concurrency,
                cycleIntervalSeconds: configuration.cycleInterval.backfillSeconds
            ),
            queue: BackfillStatusBody.Queue(snapshot),
            currentCycle: Nullable(board.current.map(BackfillStatusBody.Cycle.init)),
            lastCycle: Nullable(board.last.map(BackfillStatusBody.Cycle.init)),
            cycles: board.cycles,
            recentFailures: snapshot.recentFailures.map { BackfillStatusBody.Failure(instrumentToken: $0.token, error: $0.error, at: $0.at) }
        )
    }
}
