import Foundation
import Logging
import Shared
import SharedPostgres
import Testing
import TestSupport

/// `docs/queries.sql`, the operator's hand-run checks, run by psql exactly as the file says against a migrated database
/// with known contents: each query must find exactly the faults planted in it.
@Suite("Verification queries (docs/queries.sql)")
struct VerificationQueriesTests {
    private static let file = OpenAPISpec.root.appendingPathComponent("docs/queries.sql")
    private static let variables = ["day": "2025-11-20", "as_of": "2025-11-20 15:30+05:30", "stale_minutes": "5"]

    /// The blocks of the file by their `-- name:`.
    private static func blocks() throws -> [String: String] {
        var result: [String: String] = [:]
        var name: String?
        var lines: [Substring] = []
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- name: ") {
                if let name { result[name] = lines.joined(separator: "\n") }
                name = String(line.dropFirst("-- name: ".count)).trimmingCharacters(in: .whitespaces)
                lines = []
            } else if name != nil {
                lines.append(line)
            }
        }
        if let name { result[name] = lines.joined(separator: "\n") }
        return result
    }

    /// Runs SQL from a file through psql with the file's variables; rows come back as `a|b|c` lines.
    private static func psql(_ databaseURL: String, file path: String) throws -> Command.Outcome {
        var arguments = ["-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", databaseURL, "-f", path]
        for (key, value) in variables.sorted(by: { $0.key < $1.key }) { arguments += ["-v", "\(key)=\(value)"] }
        return try Command.run(Command.required("psql", package: "postgresql-client"), arguments, environment: ["PGTZ": "UTC"])
    }

    private static func rows(_ databaseURL: String, query name: String) throws -> [String] {
        guard let sql = try blocks()[name] else { throw PlatformError("docs/queries.sql has no block \(name)") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("query-\(UUID().uuidString.prefix(8)).sql").path
        try sql.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try psql(databaseURL, file: path)
        guard outcome.status == 0 else { throw PlatformError("\(name): psql exit \(outcome.status): \(outcome.output)") }
        return outcome.output.split(separator: "\n").map(String.init)
    }

    /// INFY (NSE, FULL) has the whole 2025-11-20 session but 10:00 and 10:01 IST, plus a bar at 15:30 IST (after the
    /// close) and one at 09:20:30 (not on a minute); NIFTY 50 (LTP) only 09:15-09:19; an inactive subscription has
    /// nothing and must not be reported.
    private static func plantedDatabase() async throws -> String {
        let databaseURL = try await PostgresCluster.shared.createDatabase()
        var logger = Logger(label: "tests.queries")
        logger.logLevel = .warning
        let postgres = PostgresClient(configuration: PostgresConfiguration(connectionString: databaseURL, poolSize: 1), logger: logger)
        _ = try await Migrator(client: postgres, logger: logger).migrate(try MigrationLoader.load(directory: PlatformMigrations.directory))
        let session = "generate_series(timestamptz '2025-11-20 09:15+05:30', timestamptz '2025-11-20 15:29+05:30', interval '1 minute')"
        for sql in [
            """
            INSERT INTO instruments (instrument_token, exchange_token, tradingsymbol, name, instrument_type, segment, exchange) VALUES
                (408065, 1594, 'INFY', 'INFOSYS', 'EQ', 'NSE', 'NSE'),
                (256265, 1001, 'NIFTY 50', 'NIFTY 50', 'EQ', 'INDICES', 'NSE'),
                (738561, 2885, 'RELIANCE', 'RELIANCE', 'EQ', 'NSE', 'NSE')
            """,
            """
            INSERT INTO instrument_subscriptions (instrument_token, tradingsymbol, segment, exchange, mode, status, account_id, connection_id) VALUES
                (408065, 'INFY', 'NSE', 'NSE', 'FULL', 'active', 'primary', 0),
                (256265, 'NIFTY 50', 'INDICES', 'NSE', 'LTP', 'active', 'primary', 1),
                (738561, 'RELIANCE', 'NSE', 'NSE', 'QUOTE', 'inactive', NULL, NULL)
            """,
            """
            INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, source)
            SELECT 408065, minute, 100, 101, 99, 100.5, 10,
                   CASE WHEN minute < timestamptz '2025-11-20 10:55+05:30' THEN 'backfill' ELSE 'ticks' END
            FROM \(session) AS minute
            WHERE minute NOT IN (timestamptz '2025-11-20 10:00+05:30', timestamptz '2025-11-20 10:01+05:30')
            """,
            """
            INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, source) VALUES
                (408065, '2025-11-20 15:30+05:30', 100, 101, 99, 100.5, 10, 'ticks'),
                (408065, '2025-11-20 09:20:30+05:30', 100, 101, 99, 100.5, 10, 'ticks')
            """,
            """
            INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, source)
            SELECT 256265, minute, 24000, 24010, 23990, 24005, 'backfill'
            FROM generate_series(timestamptz '2025-11-20 09:15+05:30', timestamptz '2025-11-20 09:19+05:30', interval '1 minute') AS minute
            """,
        ] {
            _ = try await postgres.execute(sql)
        }
        await postgres.close()
        return databaseURL
    }

    @Test("each query finds exactly the planted faults")
    func plantedFaults() async throws {
        let database = try await Self.plantedDatabase()

        #expect(try Self.rows(database, query: "missing_minutes") == [
            "256265|NIFTY 50|370|2025-11-20 03:50:00+00|2025-11-20 09:59:00+00",
            "408065|INFY|2|2025-11-20 04:30:00+00|2025-11-20 04:31:00+00",
        ])
        #expect(try Self.rows(database, query: "misplaced_bars") == [
            "408065|INFY|2025-11-20 03:50:30+00|not_on_a_minute",
            "408065|INFY|2025-11-20 10:00:00+00|outside_session",
        ])
        #expect(try Self.rows(database, query: "latest_bar_per_subscription") == [
            "256265|NIFTY 50|LTP|2025-11-20 03:49:00+00|backfill|371",
            "408065|INFY|FULL|2025-11-20 10:00:00+00|ticks|0",
        ])
        // INFY: 373 session minutes (100 from the broker before 10:55 IST, less the two missing) plus the two misplaced.
        #expect(try Self.rows(database, query: "bars_by_source") == [
            "256265|0|5|5",
            "408065|277|98|375",
        ])
        #expect(try Self.rows(database, query: "subscriptions_without_recent_data") == [
            "256265|NIFTY 50|primary|1|2025-11-20 03:49:00+00",
        ])
    }

    @Test("the whole file runs in psql as its header says")
    func wholeFile() async throws {
        let database = try await Self.plantedDatabase()
        let outcome = try Self.psql(database, file: Self.file.path)
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(try Self.blocks().count == 5)
    }
}
