import Foundation
import SharedPostgres

/// The `watchlist` table (migration `0007_tiers.sql`).
struct WatchlistStore: Sendable {
    let postgres: PostgresClient

    /// A user's entries, oldest first; empty when the user has none.
    func entries(userID: String) async throws -> [WatchlistEntry] {
        let rows = try await postgres.query(
            """
            SELECT user_id, kind, symbol, instrument_token, to_char(expiry, 'YYYY-MM-DD') AS expiry, atm_strike, strikes, added_at
            FROM watchlist WHERE user_id = $1 ORDER BY added_at, symbol, instrument_token
            """,
            [userID]
        )
        return try rows.map(Self.entry)
    }

    /// Every underlying entry of every user (the chain re-centring looks at them).
    func underlyingEntries() async throws -> [WatchlistEntry] {
        let rows = try await postgres.query(
            """
            SELECT user_id, kind, symbol, instrument_token, to_char(expiry, 'YYYY-MM-DD') AS expiry, atm_strike, strikes, added_at
            FROM watchlist WHERE kind = 'underlying' ORDER BY user_id, symbol
            """
        )
        return try rows.map(Self.entry)
    }

    /// Every user with at least one entry.
    func users() async throws -> [String] {
        try await postgres.query("SELECT DISTINCT user_id FROM watchlist ORDER BY user_id").map { try $0.decode(String.self, "user_id") }
    }

    /// How many entries a user has.
    func count(userID: String) async throws -> Int {
        let rows = try await postgres.query("SELECT count(*) AS n FROM watchlist WHERE user_id = $1", [userID])
        return Int(try rows.first?.decode(Int64.self, "n") ?? 0)
    }

    /// Whether the entry exists.
    func contains(_ entry: WatchlistEntry) async throws -> Bool {
        let rows = try await postgres.query(
            "SELECT 1 FROM watchlist WHERE user_id = $1 AND kind = $2 AND symbol = $3 AND instrument_token = $4",
            [entry.userID, entry.kind.rawValue, entry.symbol, entry.instrumentToken]
        )
        return !rows.isEmpty
    }

    /// Adds the entry (or updates its chain window) on the given transaction's connection.
    func upsert(_ entry: WatchlistEntry, on connection: PostgresConnection) async throws {
        _ = try await connection.execute(
            """
            INSERT INTO watchlist (user_id, kind, symbol, instrument_token, expiry, atm_strike, strikes)
            VALUES ($1, $2, $3, $4, $5::date, $6, $7)
            ON CONFLICT (user_id, kind, symbol, instrument_token)
            DO UPDATE SET expiry = excluded.expiry, atm_strike = excluded.atm_strike, strikes = excluded.strikes
            """,
            [entry.userID, entry.kind.rawValue, entry.symbol, entry.instrumentToken, entry.expiry, entry.atmStrike, entry.strikes.map(Int64.init)]
        )
    }

    /// Removes the entry on the given transaction's connection; whether it existed.
    func delete(_ entry: WatchlistEntry, on connection: PostgresConnection) async throws -> Bool {
        try await connection.execute(
            "DELETE FROM watchlist WHERE user_id = $1 AND kind = $2 AND symbol = $3 AND instrument_token = $4",
            [entry.userID, entry.kind.rawValue, entry.symbol, entry.instrumentToken]
        ) > 0
    }

    /// Empties every watchlist on the given connection; how many entries were removed.
    func deleteAll(on connection: PostgresConnection) async throws -> Int {
        try await connection.execute("DELETE FROM watchlist")
    }

    static func entry(_ row: PostgresRow) throws -> WatchlistEntry {
        WatchlistEntry(
            userID: try row.decode(String.self, "user_id"),
            kind: WatchlistEntry.Kind(rawValue: try row.decode(String.self, "kind")) ?? .instrument,
            symbol: try row.decode(String.self, "symbol"), instrumentToken: try row.decode(Int64.self, "instrument_token"),
            expiry: try row.decodeIfPresent(String.self, "expiry"), atmStrike: try row.decodeIfPresent(Double.self, "atm_strike"),
            strikes: try row.decodeIfPresent(Int64.self, "strikes").map(Int.init), addedAt: try row.decode(Date.self, "added_at")
        )
    }
}
