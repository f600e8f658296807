import Foundation
import Logging
import Shared
import SharedPostgres

/// What handling an event did.
enum EventHandlingOutcome: Sendable, Equatable {
    /// Its work was committed now.
    case processed
    /// Its `event_id` was already processed: nothing done.
    case duplicate
}

/// Does a subscription event's work once, whichever receiver (stream, channel, webhook) brought it.
///
/// In one transaction: insert `processed_events(event_id)` (a conflict means it was done before: skip), and for a
/// creation with immediate backfill on, insert the `backfill_jobs` row. After commit the backfill is queued (in
/// memory, coalescing per instrument); if the process dies first, the open job is adopted and resumed by a live
/// instance once this process's lease has expired (``BackfillJobLeases``).
struct SubscriptionEventHandler: Sendable {
    let postgres: PostgresClient
    let queue: BackfillQueue
    let immediateOnSubscribe: Bool
    /// This instance (the consumer name), stored as `processed_by`.
    let instance: String
    /// This process's backfill lease (``BackfillJobLeases``), stored as the job's `owner`.
    let jobOwner: String
    let logger: Logger

    func handle(_ event: SubscriptionEvent, source: String) async throws -> EventHandlingOutcome {
        let started = ContinuousClock.now
        var logger = logger
        logger[metadataKey: LogKey.eventID] = "\(event.eventID)"
        logger[metadataKey: LogKey.source] = "\(source)"
        logger[metadataKey: LogKey.instrumentToken] = "\(event.instrumentToken)"
        logger[metadataKey: LogKey.eventType] = "\(event.kind.rawValue)"
        if let symbol = event.tradingsymbol { logger[metadataKey: LogKey.symbol] = "\(symbol)" }
        EventBackfillMetrics.received(kind: event.kind.rawValue, source: source)
        logger.info("Received subscription event")

        let wantsBackfill = event.kind == .created && immediateOnSubscribe
        let eventTime = Date(timeIntervalSince1970: event.timestamp)
        let jobID: Int64?? = try await postgres.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO processed_events (event_id, event_type, instrument_token, tradingsymbol, source, processed_by, event_time)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                """,
                [event.eventID, event.kind.rawValue, event.instrumentToken, event.tradingsymbol, source, instance, eventTime]
            )
            guard !inserted.isEmpty else { return .none }
            guard wantsBackfill else { return .some(nil) }
            let rows = try await connection.query(
                """
                INSERT INTO backfill_jobs (instrument_token, reason, event_id, event_time, owner) VALUES ($1, 'subscription', $2, $3, $4)
                RETURNING id
                """,
                [event.instrumentToken, event.eventID, eventTime, jobOwner]
            )
            return .some(try rows[0].decode(Int64.self, "id"))
        }
        guard let jobID else {
            EventBackfillMetrics.duplicate(source: source)
            logger.info("Duplicate subscription event skipped")
            return .duplicate
        }
        EventBackfillMetrics.processed(source: source, seconds: (ContinuousClock.now - started).backfillSeconds)

        switch event.kind {
        case .created:
            guard let jobID else {
                EventBackfillMetrics.trigger(reason: BackfillRequest.Reason.subscription.rawValue, outcome: "disabled")
                logger.info(
                    "Subscription created, immediate backfill disabled, will be backfilled in next scheduled cycle",
                    metadata: [LogKey.flag: "BACKFILL_IMMEDIATE_ON_SUBSCRIBE=false"]
                )
                return .processed
            }
            logger.info("Subscription created, triggering immediate backfill")
            let request = BackfillRequest(
                token: event.instrumentToken, reason: .subscription, wantsTail: true, jobIDs: [jobID],
                eventTimestamps: [event.timestamp], exchange: Self.exchange(ofSegment: event.metadata.segment),
                tradingsymbol: event.tradingsymbol
            )
            switch queue.enqueue(request) {
            case .queued:
                EventBackfillMetrics.trigger(reason: request.reason.rawValue, outcome: "queued")
                logger.info("Immediate backfill scheduled")
            case .coalesced:
                EventBackfillMetrics.trigger(reason: request.reason.rawValue, outcome: "coalesced")
                logger.info("Immediate backfill scheduled", metadata: [LogKey.coalesced: "true"])
            case .closed:
                EventBackfillMetrics.trigger(reason: request.reason.rawValue, outcome: "deferred")
                logger.warning("Backfill manager not available, skipping immediate backfill (the periodic cycle resumes the job)", metadata: [LogKey.jobID: "\(jobID)"])
            }
        case .removed:
            logger.info("Subscription removed")
        }
        return .processed
    }

    /// `NFO-OPT` → `NFO`, `MCX-FUT` → `MCX`, `NSE` → `NSE`; nil when absent.
    static func exchange(ofSegment segment: String?) -> String? {
        guard let segment, !segment.isEmpty else { return nil }
        return segment.split(separator: "-").first.map(String.init)
    }
}
