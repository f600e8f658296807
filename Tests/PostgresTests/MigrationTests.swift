import Foundation
import SharedPostgres
import TestSupport
import Testing

@Suite("Migrations")
struct MigrationTests {
    /// Writes migration files into a fresh temporary folder.
    func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("migrations"))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    static let baseFiles = [
        "0001_create_instruments.sql": """
            CREATE TABLE instruments (token int PRIMARY KEY, tradingsymbol text NOT NULL);
            INSERT INTO instruments VALUES (256265, 'NIFTY 50');
            """,
        "0002_create_candles.sql": """
            -- @hypertable candles(ts)
            CREATE TABLE candles (
                token int NOT NULL,
                ts timestamptz NOT NULL,
                open double precision, high double precision, low double precision, close double precision,
                volume bigint, oi bigint,
                PRIMARY KEY (token, ts)
            );
            """,
        "README.md": "not a migration",
    ]

    @Test func loaderParsesNamesVersionsAndHypertables() throws {
        let migrations = try MigrationLoader.load(directory: try folder(Self.baseFiles))
        #expect(migrations.map(\.version) == [1, 2])
        #expect(migrations.map(\.name) == ["create_instruments", "create_candles"])
        #expect(migrations[0].hypertables.isEmpty)
        #expect(migrations[1].hypertables.map(\.table) == ["candles"])
        #expect(migrations[1].hypertables.map(\.timeColumn) == ["ts"])
    }

    @Test("loader rejects duplicate versions, unversioned files and malformed directives", arguments: [
        ["0001_a.sql": "SELECT 1", "001_b.sql": "SELECT 1"],
        ["init.sql": "SELECT 1"],
        ["0001_a.sql": "-- @hypertable candles ts\nSELECT 1"],
    ])
    func loaderErrors(_ files: [String: String]) throws {
        let directory = try folder(files)
        let error = #expect(throws: PostgresError.self) { try MigrationLoader.load(directory: directory) }
        #expect(error?.code == .migrationFailed)
    }

    @Test("applied once; a re-run applies nothing; hypertable directives are a no-op without TimescaleDB")
    func appliesOnce() async throws {
        try await withTestClient { client, _ in
            let migrator = Migrator(client: client, logger: testLogger)
            #expect(try await migrator.timescaleAvailable() == false)
            let migrations = try MigrationLoader.load(directory: try folder(Self.baseFiles))
            #expect(try await migrator.migrate(migrations) == [1, 2])
            #expect(try await migrator.migrate(migrations) == [])
            let recorded = try await client.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode(Int.self, "version") } == [1, 2])
            #expect(try recorded.map { try $0.decode(String.self, "checksum") } == migrations.map(\.checksum))
            #expect(try await client.query("SELECT count(*) AS n FROM instruments")[0].decode(Int.self, "n") == 1)
            try await client.execute(
                "INSERT INTO candles VALUES ($1, $2, 1, 2, 0.5, 1.5, 100, 7)", [256265, Date(timeIntervalSince1970: 1_714_535_100)])
            #expect(try await client.query("SELECT count(*) AS n FROM candles")[0].decode(Int.self, "n") == 1)
        }
    }

    @Test("changing an applied migration is an error naming the file")
    func checksumMismatch() async throws {
        try await withTestClient { client, _ in
            let migrator = Migrator(client: client, logger: testLogger)
            _ = try await migrator.migrate(try MigrationLoader.load(directory: try folder(Self.baseFiles)))
            var edited = Self.baseFiles
            edited["0001_create_instruments.sql"] = "CREATE TABLE instruments (token bigint PRIMARY KEY);"
            let changed = try MigrationLoader.load(directory: try folder(edited))
            let error = await #expect(throws: PostgresError.self) { try await migrator.migrate(changed) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.message.contains("0001_create_instruments.sql") == true)
        }
    }

    @Test("a failing migration rolls back entirely and is not recorded")
    func failingMigrationRollsBack() async throws {
        try await withTestClient { client, _ in
            let migrator = Migrator(client: client, logger: testLogger)
            var files = Self.baseFiles
            files["0003_broken.sql"] = "CREATE TABLE half_done (x int);\nINSERT INTO half_done VALUES (1);\nSELECT 1/0;"
            let migrations = try MigrationLoader.load(directory: try folder(files))
            let error = await #expect(throws: PostgresError.self) { try await migrator.migrate(migrations) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.sqlState == "22012")
            #expect(error?.message.contains("0003_broken.sql") == true)
            let versions = try await client.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode(Int.self, "version") }
            #expect(versions == [1, 2])
            #expect(try await client.query("SELECT to_regclass('half_done') IS NULL AS gone")[0].decode(Bool.self, "gone"))

            files["0003_broken.sql"] = "CREATE TABLE half_done (x int);"
            #expect(try await migrator.migrate(try MigrationLoader.load(directory: try folder(files))) == [3])
        }
    }

    @Test("two migrators starting at once apply each migration exactly once")
    func concurrentMigrators() async throws {
        try await withTestClient { client, url in
            let other = PostgresClient(configuration: PostgresConfiguration(connectionString: url, poolSize: 2), logger: testLogger)
            var files = Self.baseFiles
            // Slow enough that the two runs overlap.
            files["0003_slow.sql"] = "CREATE TABLE slow (x int); SELECT pg_sleep(0.3);"
            let migrations = try MigrationLoader.load(directory: try folder(files))
            async let first = Migrator(client: client, logger: testLogger).migrate(migrations)
            async let second = Migrator(client: other, logger: testLogger).migrate(migrations)
            let results = try await [first, second]
            #expect(results.flatMap { $0 }.sorted() == [1, 2, 3])
            #expect(try await client.query("SELECT count(*) AS n FROM schema_migrations")[0].decode(Int.self, "n") == 3)
            await other.close()
        }
    }
}
