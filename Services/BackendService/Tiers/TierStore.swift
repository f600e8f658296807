import Foundation
import SharedPostgres

/// One row of the audit log (`subscription_log`).
struct SubscriptionLogEntry: Sendable, Equatable {
    enum Action: String, Sendable, Codable, CaseIterable {
        case subscribe, unsubscribe, evict, rebalance
        case eodRelease = "eod_release"
    }

    var id: Int64 = 0
    var instrumentToken: Int64?
    var action: Action
    var holder: String?
    var tier: Tier?
    var reason: String
    var actor: String
    var at: Date = Date()
}

/// An instrument the cap took from a user, for that user's watchlist view.
struct EvictionNotice: Sendable, Equatable {
    var instrumentToken: Int64
    var source: String
    var reason: String
    var evictedAt: Date
}

/// The tiers' tables (migration `0007_tiers.sql`): holdings, use, audit log, eviction notices. Statements that must
/// see one consistent picture take the connection of a ``TierManager`` transaction; the rest use the pool.
struct TierStore: Sendable {
    let postgres: PostgresClient

    /// The advisory lock every cap decision is taken under, so that two requests (or two instances) never both see
    /// room for the last free slot.
    static let capLockKey: Int64 = 0x7469_6572_7341  // "tiersA"

    /// Runs `body` in a transaction that holds the cap lock.
    func underCapLock<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await postgres.transaction { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.capLockKey])
            return try await body(connection)
        }
    }

    // MARK: Counting

    /// Distinct instruments held by any tier.
    func heldCount(_ connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query("SELECT count(DISTINCT instrument_token) AS n FROM tier_holdings")
        return Int(try rows.first?.decode(Int64.self, "n") ?? 0)
    }

    /// Instruments held by each tier (an instrument held by both counts in B only: it cannot be evicted).
    func tierCounts() async throws -> (a: Int, b: Int) {
        let rows = try await postgres.query(
            """
            SELECT count(*) FILTER (WHERE has_b) AS b, count(*) FILTER (WHERE NOT has_b) AS a
            FROM (SELECT instrument_token, bool_or(tier = 'B') AS has_b FROM tier_holdings GROUP BY instrument_token) t
            """
        )
        guard let row = rows.first else { return (0, 0) }
        return (Int(try row.decode(Int64.self, "a")), Int(try row.decode(Int64.self, "b")))
    }

    /// Which of `tokens` any tier already holds.
    func held(_ connection: PostgresConnection, among tokens: [Int64]) async throws -> Set<Int64> {
        let rows = try await connection.query(
            "SELECT DISTINCT instrument_token FROM tier_holdings WHERE instrument_token = ANY($1::bigint[])",
            [PostgresArrayLiteral.bigints(tokens)]
        )
        return Set(try rows.map { try $0.decode(Int64.self, "instrument_token") })
    }

    /// Up to `count` instruments held only by Tier A, least recently used first, leaving out `excluding`.
    func leastRecentlyUsedTierA(_ connection: PostgresConnection, count: Int, excluding: [Int64]) async throws -> [Int64] {
        let rows = try await connection.query(
            """
            SELECT h.instrument_token
            FROM tier_holdings h LEFT JOIN instrument_usage u USING (instrument_token)
            WHERE NOT (h.instrument_token = ANY($2::bigint[]))
            GROUP BY h.instrument_token, u.last_used_at
            HAVING bool_and(h.tier = 'A')
            ORDER BY u.last_used_at ASC NULLS FIRST, h.instrument_token
            LIMIT $1
            """,
            [Int64(count), PostgresArrayLiteral.bigints(excluding)]
        )
        return try rows.map { try $0.decode(Int64.self, "instrument_token") }
    }

    // MARK: Holding and letting go

    /// Adds holdings; returns the ones that were new.
    func insert(_ connection: PostgresConnection, _ holdings: [TierHolding]) async throws -> [TierHolding] {
        guard !holdings.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            INSERT INTO tier_holdings (instrument_token, holder, source, tier, user_id)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
            ON CONFLICT DO NOTHING
            RETURNING instrument_token, holder, source, tier, user_id
            """,
            [
                PostgresArrayLiteral.bigints(holdings.map(\.instrumentToken)), PostgresArrayLiteral.texts(holdings.map(\.holder)),
                PostgresArrayLiteral.texts(holdings.map(\.source)), PostgresArrayLiteral.texts(holdings.map(\.tier.rawValue)),
                PostgresArrayLiteral.texts(holdings.map(\.userID)),
            ]
        )
        return try rows.map(Self.holding)
    }

    /// Removes one source's holdings of `holder` (all its tokens, or only `tokens`) and returns what was removed.
    func delete(_ connection: PostgresConnection, holder: String, source: String, tokens: [Int64]? = nil) async throws -> [TierHolding] {
        let rows: [PostgresRow]
        if let tokens {
            rows = try await connection.query(
                """
                DELETE FROM tier_holdings WHERE holder = $1 AND source = $2 AND instrument_token = ANY($3::bigint[])
                RETURNING instrument_token, holder, source, tier, user_id
                """,
                [holder, source, PostgresArrayLiteral.bigints(tokens)]
            )
        } else {
            rows = try await connection.query(
                "DELETE FROM tier_holdings WHERE holder = $1 AND source = $2 RETURNING instrument_token, holder, source, tier, user_id",
                [holder, source]
            )
        }
        return try rows.map(Self.holding)
    }

    /// Removes every Tier A holding of the given instruments (an eviction) and returns them.
    func deleteTierA(_ connection: PostgresConnection, tokens: [Int64]) async throws -> [TierHolding] {
        let rows = try await connection.query(
            """
            DELETE FROM tier_holdings WHERE tier = 'A' AND instrument_token = ANY($1::bigint[])
            RETURNING instrument_token, holder, source, tier, user_id
            """,
            [PostgresArrayLiteral.bigints(tokens)]
        )
        return try rows.map(Self.holding)
    }

    /// Removes every Tier A holding (the end-of-day release) and returns them.
    func deleteAllTierA(_ connection: PostgresConnection) async throws -> [TierHolding] {
        let rows = try await connection.query(
            "DELETE FROM tier_holdings WHERE tier = 'A' RETURNING instrument_token, holder, source, tier, user_id"
        )
        return try rows.map(Self.holding)
    }

    /// Of `tokens`, those `holder` still holds through some source.
    func stillHeld(_ connection: PostgresConnection, holder: String, among tokens: [Int64]) async throws -> Set<Int64> {
        let rows = try await connection.query(
            "SELECT DISTINCT instrument_token FROM tier_holdings WHERE holder = $1 AND instrument_token = ANY($2::bigint[])",
            [holder, PostgresArrayLiteral.bigints(tokens)]
        )
        return Set(try rows.map { try $0.decode(Int64.self, "instrument_token") })
    }

    /// The tokens one holder holds through one source.
    func tokens(holder: String, source: String) async throws -> [Int64] {
        let rows = try await postgres.query(
            "SELECT instrument_token FROM tier_holdings WHERE holder = $1 AND source = $2 ORDER BY instrument_token", [holder, source]
        )
        return try rows.map { try $0.decode(Int64.self, "instrument_token") }
    }

    /// The distinct tokens `holder` holds through sources starting with `sourcePrefix`.
    func tokens(holder: String, sourcePrefix: String) async throws -> [Int64] {
        let rows = try await postgres.query(
            "SELECT DISTINCT instrument_token FROM tier_holdings WHERE holder = $1 AND starts_with(source, $2) ORDER BY instrument_token",
            [holder, sourcePrefix]
        )
        return try rows.map { try $0.decode(Int64.self, "instrument_token") }
    }

    /// Every source of a tier and its tokens (Tier B's sync).
    func holdings(tier: Tier, holder: String) async throws -> [String: Set<Int64>] {
        let rows = try await postgres.query(
            "SELECT source, instrument_token FROM tier_holdings WHERE tier = $1 AND holder = $2", [tier.rawValue, holder]
        )
        var out: [String: Set<Int64>] = [:]
        for row in rows { out[try row.decode(String.self, "source"), default: []].insert(try row.decode(Int64.self, "instrument_token")) }
        return out
    }

    /// The held instruments with their holdings and last use, filtered by tier and user, ordered by token; at most
    /// `limit` after `afterToken`.
    func list(tier: Tier?, userID: String?, afterToken: Int64, limit: Int) async throws -> [(token: Int64, holdings: [TierHolding], lastUsed: Date?)] {
        let rows = try await postgres.query(
            """
            WITH picked AS (
                SELECT DISTINCT instrument_token FROM tier_holdings
                WHERE ($1::text IS NULL OR tier = $1) AND ($2::text IS NULL OR user_id = $2) AND instrument_token > $3
                ORDER BY instrument_token LIMIT $4
            )
            SELECT h.instrument_token, h.holder, h.source, h.tier, h.user_id, u.last_used_at
            FROM tier_holdings h JOIN picked USING (instrument_token) LEFT JOIN instrument_usage u USING (instrument_token)
            ORDER BY h.instrument_token, h.holder, h.source
            """,
            [tier?.rawValue, userID, afterToken, Int64(limit)]
        )
        var out: [(token: Int64, holdings: [TierHolding], lastUsed: Date?)] = []
        for row in rows {
            let holding = try Self.holding(row)
            let lastUsed = try row.decodeIfPresent(Date.self, "last_used_at")
            if out.last?.token == holding.instrumentToken {
                out[out.count - 1].holdings.append(holding)
            } else {
                out.append((holding.instrumentToken, [holding], lastUsed))
            }
        }
        return out
    }

    // MARK: Use

    /// Marks instruments as used now (only those a tier holds: a view of an unheld chain records nothing).
    func touch(_ tokens: [Int64], connection: PostgresConnection? = nil) async throws {
        guard !tokens.isEmpty else { return }
        let sql = """
            INSERT INTO instrument_usage (instrument_token, last_used_at)
            SELECT DISTINCT t, now() FROM unnest($1::bigint[]) AS t
            WHERE EXISTS (SELECT 1 FROM tier_holdings h WHERE h.instrument_token = t)
            ON CONFLICT (instrument_token) DO UPDATE SET last_used_at = excluded.last_used_at
            """
        let binds: [(any PostgresEncodable)?] = [PostgresArrayLiteral.bigints(tokens)]
        if let connection { _ = try await connection.execute(sql, binds) } else { _ = try await postgres.execute(sql, binds) }
    }

    /// Marks everything `holder` holds as used now (a watchlist view).
    func touch(holder: String) async throws {
        _ = try await postgres.execute(
            """
            INSERT INTO instrument_usage (instrument_token, last_used_at)
            SELECT DISTINCT instrument_token, now() FROM tier_holdings WHERE holder = $1
            ON CONFLICT (instrument_token) DO UPDATE SET last_used_at = excluded.last_used_at
            """,
            [holder]
        )
    }

    /// How many instruments `holder` holds through each source.
    func heldCountsBySource(holder: String) async throws -> [String: Int] {
        let rows = try await postgres.query("SELECT source, count(*) AS n FROM tier_holdings WHERE holder = $1 GROUP BY source", [holder])
        var out: [String: Int] = [:]
        for row in rows { out[try row.decode(String.self, "source")] = Int(try row.decode(Int64.self, "n")) }
        return out
    }

    /// Forgets the use of instruments no tier holds any more.
    func forgetUnheld(_ connection: PostgresConnection, among tokens: [Int64]) async throws {
        guard !tokens.isEmpty else { return }
        _ = try await connection.execute(
            """
            DELETE FROM instrument_usage u WHERE u.instrument_token = ANY($1::bigint[])
            AND NOT EXISTS (SELECT 1 FROM tier_holdings h WHERE h.instrument_token = u.instrument_token)
            """,
            [PostgresArrayLiteral.bigints(tokens)]
        )
    }

    // MARK: Audit log and eviction notices

    func log(_ connection: PostgresConnection, _ entries: [SubscriptionLogEntry]) async throws {
        guard !entries.isEmpty else { return }
        _ = try await connection.execute(
            """
            INSERT INTO subscription_log (instrument_token, action, holder, tier, reason, actor)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
            """,
            [
                PostgresArrayLiteral.optionalBigints(entries.map(\.instrumentToken)), PostgresArrayLiteral.texts(entries.map(\.action.rawValue)),
                PostgresArrayLiteral.texts(entries.map(\.holder)), PostgresArrayLiteral.texts(entries.map { $0.tier?.rawValue }),
                PostgresArrayLiteral.texts(entries.map(\.reason)), PostgresArrayLiteral.texts(entries.map(\.actor)),
            ]
        )
    }

    /// The newest log entries first, filtered by token and time, at most `limit`, before id `beforeID`.
    func logEntries(token: Int64?, since: Date?, beforeID: Int64?, limit: Int) async throws -> [SubscriptionLogEntry] {
        let rows = try await postgres.query(
            """
            SELECT id, instrument_token, action, holder, tier, reason, actor, at FROM subscription_log
            WHERE ($1::bigint IS NULL OR instrument_token = $1) AND ($2::timestamptz IS NULL OR at >= $2)
              AND ($3::bigint IS NULL OR id < $3)
            ORDER BY id DESC LIMIT $4
            """,
            [token, since, beforeID, Int64(limit)]
        )
        return try rows.map { row in
            SubscriptionLogEntry(
                id: try row.decode(Int64.self, "id"), instrumentToken: try row.decodeIfPresent(Int64.self, "instrument_token"),
                action: SubscriptionLogEntry.Action(rawValue: try row.decode(String.self, "action")) ?? .subscribe,
                holder: try row.decodeIfPresent(String.self, "holder"),
                tier: try row.decodeIfPresent(String.self, "tier").flatMap(Tier.init(rawValue:)),
                reason: try row.decode(String.self, "reason"), actor: try row.decode(String.self, "actor"), at: try row.decode(Date.self, "at")
            )
        }
    }

    func recordEvictions(_ connection: PostgresConnection, _ holdings: [TierHolding], reason: String) async throws {
        let users = holdings.filter { $0.userID != nil }
        guard !users.isEmpty else { return }
        _ = try await connection.execute(
            """
            INSERT INTO tier_evictions (user_id, instrument_token, source, reason)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])
            """,
            [
                PostgresArrayLiteral.texts(users.map(\.userID)), PostgresArrayLiteral.bigints(users.map(\.instrumentToken)),
                PostgresArrayLiteral.texts(users.map(\.source)), PostgresArrayLiteral.texts(users.map { _ in reason }),
            ]
        )
    }

    /// Forgets every eviction notice (the end of day empties the watchlists they were shown in).
    func clearEvictions(on connection: PostgresConnection) async throws {
        _ = try await connection.execute("DELETE FROM tier_evictions")
    }

    /// A user's newest eviction notices (at most 100).
    func evictions(userID: String) async throws -> [EvictionNotice] {
        let rows = try await postgres.query(
            "SELECT instrument_token, source, reason, evicted_at FROM tier_evictions WHERE user_id = $1 ORDER BY id DESC LIMIT 100", [userID]
        )
        return try rows.map { row in
            EvictionNotice(
                instrumentToken: try row.decode(Int64.self, "instrument_token"), source: try row.decode(String.self, "source"),
                reason: try row.decode(String.self, "reason"), evictedAt: try row.decode(Date.self, "evicted_at")
            )
        }
    }

    static func holding(_ row: PostgresRow) throws -> TierHolding {
        TierHolding(
            instrumentToken: try row.decode(Int64.self, "instrument_token"), holder: try row.decode(String.self, "holder"),
            source: try row.decode(String.self, "source"), tier: Tier(rawValue: try row.decode(String.self, "tier")) ?? .a,
            userID: try row.decodeIfPresent(String.self, "user_id")
        )
    }
}
