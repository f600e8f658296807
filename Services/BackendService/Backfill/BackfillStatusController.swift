import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

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

    func status() -> Response {
        let snapshot = queue.snapshot
        let body: [String: Any] = [
            "flags": [
                "subscription_events_enabled": configuration.eventsEnabled,
                "immediate_on_subscribe": configuration.immediateOnSubscribe,
                "subscription_aware": configuration.subscriptionAware,
                "session": configuration.session.rawValue,
                "history_source": configuration.historySource.rawValue,
                "concurrency": configuration.concurrency,
                "cycle_interval_seconds": configuration.cycleInterval.backfillSeconds,
            ] as [String: Any],
            "queue": [
                "queued": snapshot.queued,
                "running": snapshot.running,
                "running_count": snapshot.running.count,
                "completed": snapshot.completed,
                "failed": snapshot.failed,
                "coalesced": snapshot.coalesced,
                "fetches": snapshot.fetches,
            ] as [String: Any],
            "current_cycle": board.current.map(Self.cycle) ?? NSNull(),
            "last_cycle": board.last.map(Self.cycle) ?? NSNull(),
            "cycles": board.cycles,
            "recent_failures": snapshot.recentFailures.map {
                ["instrument_token": $0.token, "error": $0.error, "at": Self.iso($0.at)] as [String: Any]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func cycle(_ progress: BackfillCycleProgress) -> [String: Any] {
        [
            "run_id": progress.runID.map { $0 as Any } ?? NSNull(),
            "started_at": iso(progress.startedAt),
            "finished_at": progress.finishedAt.map { iso($0) as Any } ?? NSNull(),
            "token_source": progress.tokenSource,
            "instruments_checked": progress.instrumentsChecked,
            "instruments_total": progress.instrumentsTotal,
            "instruments_done": progress.instrumentsDone,
            "gaps_found": progress.gapsFound,
            "bars_written": progress.barsWritten,
            "failures": progress.failures,
            "error": progress.error.map { $0 as Any } ?? NSNull(),
        ]
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
