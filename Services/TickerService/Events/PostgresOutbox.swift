import Foundation
import Shared
import SharedPostgres

/// The `event_outbox` table: events are appended inside the transaction of the change they describe, and the relay
/// claims and marks them.
struct PostgresOutbox: OutboxRepository {
    let postgres: PostgresClient

    /// Appends events inside the caller's transaction. Ids come from the table's sequence first, so the stored payload
    /// already carries its `sequence` and is exactly what will be published.
    /// - Parameters:
    ///   - drafts: The events, in order.
    ///   - connection: A connection inside a transaction.
    /// - Returns: The events as written.
    static func append(_ drafts: [OutboxEventDraft], on connection: PostgresConnection) async throws -> [SubscriptionEvent] {
        guard !drafts.isEmpty else { return [] }
        let idRows = try await connection.query(
            "SELECT nextval(pg_get_serial_sequence('event_outbox', 'id')) AS id FROM generate_series(1, $1)", [drafts.count]
        )
        let ids = try idRows.map { try $0.decode(Int64.self, "id") }.sorted()
        // Millisecond precision; the codec writes whole seconds as integers as seed 000 shows them.
        let timestamp = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        var events: [SubscriptionEvent] = []
        events.reserveCapacity(drafts.count)
        for (draft, id) in zip(drafts, ids) {
            events.append(
                SubscriptionEvent(
                    eventID: UUID().uuidString.lowercased(),
                    kind: draft.kind,
                    instrumentToken: draft.token,
                    tradingsymbol: draft.tradingsymbol,
                    metadata: .init(tradingsymbol: draft.tradingsymbol, segment: draft.segment, requestedMode: draft.mode, accountID: draft.accountID),
                    timestamp: timestamp,
                    sequence: id
                )
            )
        }
        try await connection.execute(
            """
            INSERT INTO event_outbox (id, event_id, event_type, instrument_token, payload)
            SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[])
            """,
            [
                PostgresArrayLiteral.bigints(events.map { $0.sequence ?? 0 }),
                PostgresArrayLiteral.texts(events.map(\.eventID)),
                PostgresArrayLiteral.texts(events.map(\.kind.rawValue)),
                PostgresArrayLiteral.bigints(events.map(\.instrumentToken)),
                PostgresArrayLiteral.texts(events.map(SubscriptionEventCodec.encode)),
            ]
        )
        return events
    }

    /// Held for a publishing transaction, so the relays of several TickerService instances publish one after the other
    /// and the stream keeps the outbox's order (with `SKIP LOCKED` alone, two relays could publish two batches crosswise).
    static let publishLockKey: Int64 = 0x6F75_7462_6F78  // "outbox"

    func publishPending(limit: Int, _ publish: ([OutboxEntry]) async throws -> Int) async throws -> (claimed: Int, published: Int) {
        try await postgres.transaction { connection in
            // Waits for another relay's batch; the query below then sees what it published (read committed).
            _ = try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.publishLockKey])
            let rows = try await connection.query(
                """
                SELECT id, event_id::text AS event_id, event_type, payload FROM event_outbox
                WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """,
                [limit]
            )
            guard !rows.isEmpty else { return (0, 0) }
            let entries = try rows.map { row in
                OutboxEntry(
                    id: try row.decode(Int64.self, "id"), eventID: try row.decode(String.self, "event_id"),
                    eventType: try row.decode(String.self, "event_type"), payload: try row.decode(String.self, "payload")
                )
            }
            let accepted = min(max(try await publish(entries), 0), entries.count)
            if accepted > 0 {
                try await connection.execute(
                    "UPDATE event_outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])",
                    [PostgresArrayLiteral.bigints(entries.prefix(accepted).map(\.id))]
                )
            }
            return (entries.count, accepted)
        }
    }

    func recordFailure(ids: [Int64], error: String) async throws {
        guard !ids.isEmpty else { return }
        try await postgres.execute(
            "UPDATE event_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[]) AND published_at IS NULL",
            [PostgresArrayLiteral.bigints(ids), String(error.prefix(1000))]
        )
    }

    func pendingCount() async throws -> Int {
        try await postgres.query("SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL").first?.decode(Int.self, "n") ?? 0
    }

    func purgePublished(olderThan age: Duration) async throws -> Int {
        try await postgres.execute(
            "DELETE FROM event_outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)",
            [Double(age.components.seconds)]
        )
    }
}
