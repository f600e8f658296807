import Metrics

/// Every metric that event consumption and backfill report, named once (docs/backfill.md lists them).
enum EventBackfillMetrics {
    // Names.
    /// Events received, labels `kind` (created/removed/invalid) and `source` (stream/channel/webhook).
    static let eventsReceived = "backend_subscription_events_received_total"
    /// Seconds from receipt to the event's work being committed, label `source`.
    static let eventProcessingSeconds = "backend_subscription_event_processing_seconds"
    /// Events whose `event_id` was already processed, label `source`.
    static let duplicatesSkipped = "backend_subscription_events_duplicates_total"
    /// Entries and messages moved to `{prefix}:events:dead`, labels `source` and `reason`.
    static let deadLettered = "backend_subscription_events_dead_lettered_total"
    /// Payloads that were not subscription events, labels `source` and `code`.
    static let malformed = "backend_subscription_events_malformed_total"
    /// Rejected payloads not dead-lettered because an identical one (same source, code and SHA-256) was within the
    /// last minute, labels `source` and `code`.
    static let rejectionsRepeated = "backend_subscription_events_rejections_repeated_total"
    /// Rejections not logged because one of the same source and code was logged within the last 10 s, labels `source` and `code`.
    static let rejectionLogsSuppressed = "backend_subscription_events_rejection_logs_suppressed_total"
    /// Pending stream entries taken over from another consumer.
    static let claimed = "backend_subscription_events_claimed_total"
    /// Backfills asked for, label `reason` (subscription/gap/manual) and `outcome` (queued/coalesced/disabled).
    static let backfillTriggers = "backend_backfill_triggers_total"
    /// Finished backfills, labels `reason` and `outcome` (success/nothing_to_do/failure).
    static let backfillOutcomes = "backend_backfill_outcomes_total"
    /// Candle fetches made (one per coalesced backfill window), label `outcome`.
    static let backfillFetches = "backend_backfill_fetches_total"
    /// Bars upserted by backfill.
    static let barsWritten = "backend_backfill_bars_written_total"
    /// Seconds from a subscription event's `timestamp` to its instrument's first stored bar.
    static let eventToFirstBarSeconds = "backend_backfill_event_to_first_bar_seconds"
    /// Seconds one instrument's backfill took.
    static let backfillSeconds = "backend_backfill_duration_seconds"
    /// Gaps the periodic cycle found.
    static let gapsFound = "backend_backfill_gaps_found_total"
    /// Periodic cycles, label `outcome` and `token_source` (ticker/known).
    static let cycles = "backend_backfill_cycles_total"
    /// Backfills waiting or running now.
    static let queueDepth = "backend_backfill_queue_depth"
    /// Open jobs taken over from a process whose lease expired or was released.
    static let jobsAdoptedTotal = "backend_backfill_jobs_adopted_total"

    // Label values.
    enum Source {
        static let stream = "stream"
        static let channel = "channel"
        static let webhook = "webhook"
    }

    static func jobsAdopted(_ count: Int) {
        Counter(label: jobsAdoptedTotal).increment(by: count)
    }

    static func received(kind: String, source: String) {
        Counter(label: eventsReceived, dimensions: [("kind", kind), ("source", source)]).increment()
    }

    static func processed(source: String, seconds: Double) {
        Recorder(label: eventProcessingSeconds, dimensions: [("source", source)], aggregate: true).record(seconds)
    }

    static func duplicate(source: String) {
        Counter(label: duplicatesSkipped, dimensions: [("source", source)]).increment()
    }

    static func deadLetter(source: String, reason: String) {
        Counter(label: deadLettered, dimensions: [("source", source), ("reason", reason)]).increment()
    }

    static func malformedPayload(source: String, code: String) {
        Counter(label: malformed, dimensions: [("source", source), ("code", code)]).increment()
    }

    static func repeatedRejection(source: String, code: String) {
        Counter(label: rejectionsRepeated, dimensions: [("source", source), ("code", code)]).increment()
    }

    static func rejectionLogSuppressed(source: String, code: String) {
        Counter(label: rejectionLogsSuppressed, dimensions: [("source", source), ("code", code)]).increment()
    }

    static func trigger(reason: String, outcome: String) {
        Counter(label: backfillTriggers, dimensions: [("reason", reason), ("outcome", outcome)]).increment()
    }

    static func outcome(reason: String, outcome: String, seconds: Double) {
        Counter(label: backfillOutcomes, dimensions: [("reason", reason), ("outcome", outcome)]).increment()
        Recorder(label: backfillSeconds, dimensions: [("reason", reason)], aggregate: true).record(seconds)
    }

    static func fetch(outcome: String) {
        Counter(label: backfillFetches, dimensions: [("outcome", outcome)]).increment()
    }

    static func bars(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: barsWritten).increment(by: count)
    }

    static func eventToFirstBar(seconds: Double) {
        Recorder(label: eventToFirstBarSeconds, aggregate: true).record(max(0, seconds))
    }

    static func gaps(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: gapsFound).increment(by: count)
    }

    static func cycle(outcome: String, tokenSource: String) {
        Counter(label: cycles, dimensions: [("outcome", outcome), ("token_source", tokenSource)]).increment()
    }

    static func depth(_ value: Int) {
        Gauge(label: queueDepth).record(value)
    }
}
