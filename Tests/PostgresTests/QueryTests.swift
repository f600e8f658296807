import Foundation
import SharedPostgres
import TestSupport
import Testing

@Suite("Queries, decoding, transactions")
struct QueryTests {
    @Test func typedDecodingRoundTrips() async throws {
        try await withTestClient { client, _ in
            let tricky = "it's \"quoted\" — ünïcødé 📈 \\ back\tslash\nnewline"
            let when = Date(timeIntervalSince1970: 1_714_535_100.123456)
            let uuid = UUID()
            let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff]
            let rows = try await client.query(
                """
                SELECT $1::int AS i, $2::bigint AS b, $3::float8 AS d, $4::text AS t, $5::int AS n, $6::bool AS yes,
                       $7::timestamptz AS ts, $8::uuid AS u, $9::bytea AS raw, $10::int4 AS small, $11::text AS empty
                """,
                [42, Int64.max, 0.1, tricky, nil, true, when, uuid, bytes, Int32.min, ""]
            )
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row.columnNames == ["i", "b", "d", "t", "n", "yes", "ts", "u", "raw", "small", "empty"])
            #expect(try row.decode(Int.self, "i") == 42)
            #expect(try row.decode(Int64.self, "b") == Int64.max)
            #expect(try row.decode(Double.self, "d") == 0.1)
            #expect(try row.decode(String.self, "t") == tricky)
            #expect(try row.decodeIfPresent(Int.self, "n") == nil)
            #expect(row["n"] == nil)
            #expect(try row.decode(Bool.self, "yes"))
            let decodedDate = try row.decode(Date.self, "ts")
            #expect(abs(decodedDate.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode(UUID.self, "u") == uuid)
            #expect(try row.decode([UInt8].self, "raw") == bytes)
            #expect(try row.decode(Int32.self, at: 9) == Int32.min)
            #expect(try row.decode(String.self, "empty") == "")
            #expect(try row.decode(Int.self, at: 0) == 42)
        }
    }

    @Test func decodingErrorsAreTyped() async throws {
        try await withTestClient { client, _ in
            let row = try #require(try await client.query("SELECT 'abc'::text AS t, NULL::int AS n").first)
            let notANumber = #expect(throws: PostgresError.self) { try row.decode(Int.self, "t") }
            #expect(notANumber?.code == .decoding)
            let null = #expect(throws: PostgresError.self) { try row.decode(Int.self, "n") }
            #expect(null?.code == .decoding)
            let missing = #expect(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
            #expect(missing?.code == .decoding)
            let outOfRange = #expect(throws: PostgresError.self) { try row.decode(Int.self, at: 7) }
            #expect(outOfRange?.code == .decoding)
        }
    }

    @Test func doublesAndBigintsAtTheEdges() async throws {
        try await withTestClient { client, _ in
            for value in [0.1, -0.0, 1e-300, 1.7976931348623157e308, Double.pi, .infinity, -.infinity] {
                let row = try #require(try await client.query("SELECT $1::float8 AS d", [value]).first)
                #expect(try row.decode(Double.self, "d") == value)
            }
            let nan = try #require(try await client.query("SELECT $1::float8 AS d", [Double.nan]).first)
            #expect(try nan.decode(Double.self, "d").isNaN)
            for value in [Int64.min, Int64.max, 0, -1] {
                let row = try #require(try await client.query("SELECT $1::bigint AS b", [value]).first)
                #expect(try row.decode(Int64.self, "b") == value)
            }
        }
    }

    @Test("timestamptz decodes correctly whatever the session time zone")
    func timestampsInAnyTimeZone() async throws {
        try await withTestClient(poolSize: 1) { client, _ in
            try await client.withConnection { connection in
                try await connection.execute("SET TimeZone TO 'Asia/Kolkata'")
                let rows = try await connection.query(
                    "SELECT '2024-05-01 09:15:00+05:30'::timestamptz AS ist, '2024-05-01 03:45:00.5'::timestamp AS naive, '2024-05-01'::date AS day, 'infinity'::timestamptz AS inf")
                let row = try #require(rows.first)
                #expect(row["ist"] == "2024-05-01 09:15:00+05:30")
                #expect(try row.decode(Date.self, "ist") == Date(timeIntervalSince1970: 1_714_535_100))
                #expect(try row.decode(Date.self, "naive") == Date(timeIntervalSince1970: 1_714_535_100.5))
                #expect(try row.decode(Date.self, "day") == Date(timeIntervalSince1970: 1_714_521_600))
                #expect(try row.decode(Date.self, "inf") == .distantFuture)
            }
        }
    }

    @Test("bound parameters are data, never SQL")
    func injectionIsInert() async throws {
        try await withTestClient { client, _ in
            try await client.execute("CREATE TABLE victims (name text NOT NULL)")
            let hostile = "'); DROP TABLE victims; --"
            #expect(try await client.execute("INSERT INTO victims (name) VALUES ($1)", [hostile]) == 1)
            let rows = try await client.query("SELECT name FROM victims WHERE name = $1", [hostile])
            #expect(try rows.map { try $0.decode(String.self, "name") } == [hostile])
            let none = try await client.query("SELECT name FROM victims WHERE name = $1", ["x' OR '1'='1"])
            #expect(none.isEmpty)
            #expect(try await client.query("SELECT to_regclass('victims') IS NOT NULL AS present").first?.decode(Bool.self, "present") == true)
        }
    }

    @Test func executeReportsAffectedRows() async throws {
        try await withTestClient { client, _ in
            try await client.execute("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)")
            #expect(try await client.execute("INSERT INTO counters VALUES (1, 0), (2, 0), (3, 0)") == 3)
            #expect(try await client.execute("UPDATE counters SET n = n + $1 WHERE id >= $2", [5, 2]) == 2)
            #expect(try await client.execute("DELETE FROM counters WHERE id = $1", [99]) == 0)
        }
    }

    @Test func serverErrorsCarrySQLState() async throws {
        try await withTestClient { client, _ in
            try await client.execute("CREATE TABLE uniq (id int PRIMARY KEY)")
            try await client.execute("INSERT INTO uniq VALUES ($1)", [1])
            let duplicate = await #expect(throws: PostgresError.self) { try await client.execute("INSERT INTO uniq VALUES ($1)", [1]) }
            #expect(duplicate?.code == .server)
            #expect(duplicate?.sqlState == "23505")
            let syntax = await #expect(throws: PostgresError.self) { try await client.query("SELEC 1") }
            #expect(syntax?.sqlState == "42601")
            // Only one statement per call: a second statement cannot ride along.
            let twoStatements = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1; SELECT 2") }
            #expect(twoStatements?.code == .server)
            try await client.ping()
        }
    }

    @Test("a thrown error inside transaction rolls back every statement")
    func transactionRollsBackOnThrow() async throws {
        try await withTestClient { client, _ in
            try await client.execute("CREATE TABLE ledger (id int PRIMARY KEY, note text)")
            await #expect(throws: ExpectedFailure.self) {
                try await client.transaction { connection in
                    try await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [1, "a"])
                    try await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [2, "b"])
                    throw ExpectedFailure()
                }
            }
            #expect(try await client.query("SELECT count(*) AS n FROM ledger").first?.decode(Int.self, "n") == 0)

            // A server error mid-transaction also rolls back the earlier insert.
            let error = await #expect(throws: PostgresError.self) {
                try await client.transaction { connection in
                    try await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [3, "c"])
                    try await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [3, "duplicate"])
                }
            }
            #expect(error?.sqlState == "23505")
            #expect(try await client.query("SELECT count(*) AS n FROM ledger").first?.decode(Int.self, "n") == 0)

            // A swallowed statement error must not turn into a silent "successful" commit.
            let swallowed = await #expect(throws: PostgresError.self) {
                try await client.transaction { connection in
                    try await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [4, "d"])
                    _ = try? await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [4, "again"])
                }
            }
            #expect(swallowed?.sqlState == "25P02")
            #expect(try await client.query("SELECT count(*) AS n FROM ledger").first?.decode(Int.self, "n") == 0)

            let committed = try await client.transaction { connection in
                try await connection.execute("INSERT INTO ledger VALUES ($1, $2)", [5, "kept"])
                return try await connection.query("SELECT note FROM ledger WHERE id = $1", [5]).first?.decode(String.self, "note")
            }
            #expect(committed == "kept")
            #expect(try await client.query("SELECT count(*) AS n FROM ledger").first?.decode(Int.self, "n") == 1)
        }
    }

    @Test func connectionIsUnusableAfterItsScope() async throws {
        try await withTestClient(poolSize: 1) { client, _ in
            let leaked = try await client.withConnection { $0 }
            let error = await #expect(throws: PostgresError.self) { try await leaked.query("SELECT 1") }
            #expect(error?.code == .poolClosed)
            try await client.ping()
        }
    }

    @Test func nulBytesAreRejectedNotTruncated() async throws {
        try await withTestClient { client, _ in
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT $1::text", ["a\u{0}b"]) }
            #expect(error?.code == .encoding)
        }
    }
}
