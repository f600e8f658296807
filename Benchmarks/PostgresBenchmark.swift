import ArgumentParser
import Foundation
import Logging
import SharedPostgres
import TestSupport

/// COPY versus batched multi-row INSERT through ``PostgresClient``, writing the same 1-minute candles into the same
/// table of a throwaway PostgreSQL cluster.
struct PostgresBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Bulk write rate of 1-minute candles: COPY FROM STDIN vs batched INSERT with bound parameters."
    )

    @Option(name: .shortAndLong, help: "Candle rows written per measurement.")
    var rows = 200_000

    @Option(name: .shortAndLong, help: "Rows per INSERT statement (8 bound parameters per row).")
    var batch = 500

    @Option(help: "Measurement rounds; the best round of each side is reported.")
    var rounds = 3

    func run() async throws {
        guard batch >= 1, batch * 8 <= 65_535 else { throw ValidationError("--batch must be 1...8191") }
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        var logger = Logger(label: "postgres-benchmark")
        logger.logLevel = .warning
        let url = try await cluster.createDatabase()
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: url, poolSize: 1, applicationName: "postgres-benchmark"), logger: logger)
        try await client.execute(
            """
            CREATE TABLE candles (
                token int NOT NULL, ts timestamptz NOT NULL,
                open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, close double precision NOT NULL,
                volume bigint NOT NULL, oi bigint NOT NULL
            )
            """
        )
        let candles = Self.makeCandles(count: rows)
        print("PostgreSQL cluster on 127.0.0.1:\(cluster.port) (fsync=off), \(rows) candle rows per round, INSERT batches of \(batch), \(rounds) round(s)")

        var bestCopy = 0.0
        var bestInsert = 0.0
        for round in 1...rounds {
            try await client.execute("TRUNCATE candles")
            let copyRate = try await measure(rows: rows) {
                let written = try await client.copyIn(table: "candles", columns: Self.columns, rows: candles)
                precondition(written == rows, "COPY wrote \(written) rows")
            }
            try await verify(client)
            try await client.execute("TRUNCATE candles")
            let insertRate = try await measure(rows: rows) { try await insertBatched(client, candles) }
            try await verify(client)
            print(String(format: "round %d: COPY %.0f rows/s, INSERT %.0f rows/s", round, copyRate, insertRate))
            bestCopy = max(bestCopy, copyRate)
            bestInsert = max(bestInsert, insertRate)
        }
        await client.close()

        print(String(format: "COPY FROM STDIN:                 %.0f rows/s", bestCopy))
        print(String(format: "INSERT (%d rows/statement):     %.0f rows/s", batch, bestInsert))
        print(String(format: "ratio COPY/INSERT:               %.2f (target >= 5)", bestCopy / bestInsert))
    }

    static let columns = ["token", "ts", "open", "high", "low", "close", "volume", "oi"]

    /// Deterministic candles: 50 instruments × consecutive minutes.
    static func makeCandles(count: Int) -> [[(any PostgresEncodable)?]] {
        let start = Date(timeIntervalSince1970: 1_714_535_100)
        return (0..<count).map { index in
            let token = 256_265 + index % 50
            let minute = index / 50
            let open = 22_000.0 + Double(index % 997) * 0.05
            return [
                token, start.addingTimeInterval(Double(minute) * 60), open, open + 1.25, open - 0.75, open + 0.5,
                Int64(1_000 + index % 5_000), Int64(50_000 + index % 777),
            ]
        }
    }

    private func insertBatched(_ client: PostgresClient, _ candles: [[(any PostgresEncodable)?]]) async throws {
        func statement(rowCount: Int) -> String {
            var sql = "INSERT INTO candles (token, ts, open, high, low, close, volume, oi) VALUES "
            for row in 0..<rowCount {
                if row > 0 { sql += ", " }
                let base = row * 8
                sql += "(" + (1...8).map { "$\(base + $0)" }.joined(separator: ", ") + ")"
            }
            return sql
        }
        let full = statement(rowCount: batch)
        try await client.withConnection { connection in
            var start = 0
            while start < candles.count {
                let end = min(start + batch, candles.count)
                let sql = end - start == batch ? full : statement(rowCount: end - start)
                try await connection.execute(sql, candles[start..<end].flatMap { $0 })
                start = end
            }
        }
    }

    private func verify(_ client: PostgresClient) async throws {
        let count = try await client.query("SELECT count(*) AS n FROM candles")[0].decode(Int.self, "n")
        guard count == rows else { throw ValidationError("expected \(rows) rows, found \(count)") }
    }

    private func measure(rows: Int, _ body: () async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let elapsed = try await clock.measure { try await body() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(rows) / seconds
    }
}
