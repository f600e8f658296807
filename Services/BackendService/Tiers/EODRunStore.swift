import Foundation
import SharedPostgres

/// The `eod_runs` table: which trading days' cleanup ran, so it runs once a day across restarts and instances.
struct EODRunStore: Sendable {
    let postgres: PostgresClient
    /// A claimed run that has not finished after this long is taken as crashed and may be claimed again.
    var staleClaim: Duration = .seconds(600)

    /// Claims `day`'s run; false when it already ran (or runs elsewhere now), unless `force`.
    func claim(day: String, trigger: String, force: Bool) async throws -> Bool {
        let rows = try await postgres.query(
            """
            INSERT INTO eod_runs (trading_day, trigger) VALUES ($1::date, $2)
            ON CONFLICT (trading_day) DO UPDATE SET started_at = now(), finished_at = NULL, trigger = excluded.trigger
            WHERE $3 OR (eod_runs.finished_at IS NULL AND eod_runs.started_at < now() - make_interval(secs => $4))
            RETURNING trading_day
            """,
            [day, trigger, force, Double(staleClaim.components.seconds)]
        )
        return !rows.isEmpty
    }

    /// Records what the claimed run did.
    func finish(day: String, released: Int, watchlistsCleared: Int, on connection: PostgresConnection? = nil) async throws {
        let sql = "UPDATE eod_runs SET finished_at = now(), released = $2, watchlists_cleared = $3 WHERE trading_day = $1::date"
        let binds: [(any PostgresEncodable)?] = [day, Int64(released), Int64(watchlistsCleared)]
        if let connection { _ = try await connection.execute(sql, binds) } else { _ = try await postgres.execute(sql, binds) }
    }

    /// Whether `day`'s run finished.
    func finished(day: String) async throws -> Bool {
        !(try await postgres.query("SELECT 1 FROM eod_runs WHERE trading_day = $1::date AND finished_at IS NOT NULL", [day])).isEmpty
    }
}
