import Foundation
import SharedPostgres
import TestSupport
import Testing

@Suite("COPY FROM STDIN")
struct CopyTests {
    static let awkwardTexts: [String?] = [
        "plain", "tab\there", "new\nline", "cr\rreturn", "back\\slash", "\\N", "\\.", "ends with backslash\\",
        "quote ' and \"double\"", "ünïcødé 📈 ₹", "", nil, "\t\n\\\r", "comma,semi;pipe|",
    ]

    @Test("50,000 rows with tabs, newlines, backslashes and NULLs round-trip exactly")
    func copyRoundTrip() async throws {
        try await withTestClient { client, _ in
            try await client.execute(
                "CREATE TABLE copied (id int PRIMARY KEY, note text, price double precision, volume bigint, ts timestamptz, flag boolean)")
            let base = Date(timeIntervalSince1970: 1_714_535_100)
            let count = 50_000
            func expected(_ id: Int) -> (String?, Double?, Int64?, Date, Bool?) {
                let note = Self.awkwardTexts[id % Self.awkwardTexts.count].map { $0 + (id % 3 == 0 ? "#\(id)" : "") }
                let price: Double? = id % 7 == 0 ? nil : Double(id) / 3.0
                let volume: Int64? = id % 11 == 0 ? nil : Int64(id) * 1_000_003
                let flag: Bool? = id % 5 == 0 ? nil : id % 2 == 0
                return (note, price, volume, base.addingTimeInterval(Double(id) * 60), flag)
            }
            let rows = (0..<count).lazy.map { id -> [(any PostgresEncodable)?] in
                let (note, price, volume, ts, flag) = expected(id)
                return [id, note, price, volume, ts, flag]
            }
            let written = try await client.copyIn(table: "copied", columns: ["id", "note", "price", "volume", "ts", "flag"], rows: rows)
            #expect(written == count)

            let read = try await client.query("SELECT id, note, price, volume, ts, flag FROM copied ORDER BY id")
            #expect(read.count == count)
            var mismatches = 0
            for row in read {
                let id = try row.decode(Int.self, "id")
                let (note, price, volume, ts, flag) = expected(id)
                let same = try row.decodeIfPresent(String.self, "note") == note
                    && row.decodeIfPresent(Double.self, "price") == price
                    && row.decodeIfPresent(Int64.self, "volume") == volume
                    && row.decode(Date.self, "ts") == ts
                    && row.decodeIfPresent(Bool.self, "flag") == flag
                if !same { mismatches += 1 }
            }
            #expect(mismatches == 0)
        }
    }

    @Test func quotedIdentifiersAndSchemaQualifiedTables() async throws {
        try await withTestClient { client, _ in
            try await client.execute("CREATE SCHEMA market")
            try await client.execute("CREATE TABLE market.\"Odd Table\" (\"weird \"\"col\"\"\" text, \"Upper\" int)")
            let written = try await client.copyIn(
                table: "market.Odd Table", columns: ["weird \"col\"", "Upper"], rows: [["x", 1], [nil, 2]])
            #expect(written == 2)
            let rows = try await client.query("SELECT \"weird \"\"col\"\"\" AS w, \"Upper\" AS u FROM market.\"Odd Table\" ORDER BY 2")
            #expect(try rows.map { try $0.decodeIfPresent(String.self, "w") } == ["x", nil])
        }
    }

    @Test("bad data fails the whole COPY and leaves the connection usable")
    func copyFailureIsAtomic() async throws {
        try await withTestClient(poolSize: 1) { client, _ in
            try await client.execute("CREATE TABLE strict (id int PRIMARY KEY, qty int NOT NULL)")
            let rows: [[(any PostgresEncodable)?]] = [[1, 10], [2, "not a number"], [3, 30]]
            let error = await #expect(throws: PostgresError.self) {
                try await client.copyIn(table: "strict", columns: ["id", "qty"], rows: rows)
            }
            #expect(error?.code == .copyFailed)
            #expect(error?.sqlState == "22P02")

            let wrongWidth: [[(any PostgresEncodable)?]] = [[1, 10], [2]]
            let widthError = await #expect(throws: PostgresError.self) {
                try await client.copyIn(table: "strict", columns: ["id", "qty"], rows: wrongWidth)
            }
            #expect(widthError?.code == .encoding)

            #expect(try await client.query("SELECT count(*) AS n FROM strict").first?.decode(Int.self, "n") == 0)
            #expect(try await client.copyIn(table: "strict", columns: ["id", "qty"], rows: [[1, 10]]) == 1)
        }
    }

    @Test func copyInsideATransactionRollsBack() async throws {
        try await withTestClient { client, _ in
            try await client.execute("CREATE TABLE staged (id int)")
            await #expect(throws: ExpectedFailure.self) {
                try await client.transaction { connection in
                    _ = try await connection.copyIn(table: "staged", columns: ["id"], rows: (1...1000).map { [$0] })
                    throw ExpectedFailure()
                }
            }
            #expect(try await client.query("SELECT count(*) AS n FROM staged").first?.decode(Int.self, "n") == 0)
        }
    }
}
