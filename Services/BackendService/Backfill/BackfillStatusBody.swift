import Foundation
import ServiceRuntime

/// `GET /internal/backfill/status`' body:
/// `{"flags":{...},"queue":{...},"current_cycle":{...}|null,"last_cycle":{...}|null,"cycles":N,"recent_failures":[...]}`.
struct BackfillStatusBody: JSONResponseBody, Sendable {
    /// The settings that decide what backfill does.
    struct Flags: Encodable, Sendable {
        var subscriptionEventsEnabled: Bool
        var immediateOnSubscribe: Bool
        var subscriptionAware: Bool
        var session: String
        var historySource: String
        var concurrency: Int
        var cycleIntervalSeconds: Double

        enum CodingKeys: String, CodingKey {
            case subscriptionEventsEnabled = "subscription_events_enabled"
            case immediateOnSubscribe = "immediate_on_subscribe"
            case subscriptionAware = "subscription_aware"
            case session
            case historySource = "history_source"
            case concurrency
            case cycleIntervalSeconds = "cycle_interval_seconds"
        }
    }

    struct Queue: Encodable, Sendable {
        var queued: Int
        /// Tokens being backfilled now.
        var running: [Int64]
        var runningCount: Int
        var completed: Int
        var failed: Int
        var coalesced: Int
        var fetches: Int

        enum CodingKeys: String, CodingKey {
            case queued, running, completed, failed, coalesced, fetches
            case runningCount = "running_count"
        }

        init(_ snapshot: BackfillQueue.Snapshot) {
            queued = snapshot.queued
            running = snapshot.running
            runningCount = snapshot.running.count
            completed = snapshot.completed
            failed = snapshot.failed
            coalesced = snapshot.coalesced
            fetches = snapshot.fetches
        }
    }

    /// One periodic cycle; `run_id`, `finished_at` and `error` are null (not left out) until known.
    struct Cycle: Encodable, Sendable {
        var progress: BackfillCycleProgress

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case tokenSource = "token_source"
            case instrumentsChecked = "instruments_checked"
            case instrumentsTotal = "instruments_total"
            case instrumentsDone = "instruments_done"
            case gapsFound = "gaps_found"
            case barsWritten = "bars_written"
            case failures, error
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(progress.runID, forKey: .runID)
            try container.encode(progress.startedAt, forKey: .startedAt)
            try container.encode(progress.finishedAt, forKey: .finishedAt)
            try container.encode(progress.tokenSource, forKey: .tokenSource)
            try container.encode(progress.instrumentsChecked, forKey: .instrumentsChecked)
            try container.encode(progress.instrumentsTotal, forKey: .instrumentsTotal)
            try container.encode(progress.instrumentsDone, forKey: .instrumentsDone)
            try container.encode(progress.gapsFound, forKey: .gapsFound)
            try container.encode(progress.barsWritten, forKey: .barsWritten)
            try container.encode(progress.failures, forKey: .failures)
            try container.encode(progress.error, forKey: .error)
        }
    }

    struct Failure: Encodable, Sendable {
        var instrumentToken: Int64
        var error: String
        var at: Date

        enum CodingKeys: String, CodingKey {
            case instrumentToken = "instrument_token"
            case error, at
        }
    }

    var flags: Flags
    var queue: Queue
    /// Null when no cycle runs now.
    var currentCycle: Nullable<Cycle>
    /// Null before the first cycle ended.
    var lastCycle: Nullable<Cycle>
    var cycles: Int
    var recentFailures: [Failure]

    enum CodingKeys: String, CodingKey {
        case flags, queue, cycles
        case currentCycle = "current_cycle"
        case lastCycle = "last_cycle"
        case recentFailures = "recent_failures"
    }
}
