import Foundation
import Logging
import SharedBasics

/// One versioned SQL migration.
public struct Migration: Sendable {
    /// The version; migrations apply in ascending order, each once.
    public var version: Int
    /// A short name (the file name without version and extension, e.g. `create_candles`).
    public var name: String
    /// The SQL, possibly several statements; runs inside one transaction, so it must not contain
    /// `BEGIN`/`COMMIT` or statements that cannot run in a transaction (e.g. `CREATE INDEX CONCURRENTLY`).
    public var sql: String
    /// Tables to turn into TimescaleDB hypertables when the extension is available.
    public var hypertables: [(table: String, timeColumn: String)]
    /// The file the migration came from, for error messages (nil when built in code).
    public var fileName: String?

    /// Creates a migration.
    /// - Parameters:
    ///   - version: The version (positive, unique).
    ///   - name: A short name.
    ///   - sql: The SQL to run.
    ///   - hypertables: Tables to make hypertables when TimescaleDB is available.
    ///   - fileName: The source file's name, if any.
    public init(version: Int, name: String, sql: String, hypertables: [(table: String, timeColumn: String)] = [], fileName: String? = nil) {
        self.version = version
        self.name = name
        self.sql = sql
        self.hypertables = hypertables
        self.fileName = fileName
    }

    /// SHA-256 of the SQL in hex, recorded when applied and compared on every later run.
    public var checksum: String { SHA256.hex(of: sql.utf8) }

    /// How errors name this migration: the file name, or `version_name`.
    var label: String {
        if let fileName { return fileName }
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }
}

/// Loads migrations from a directory of `NNNN_name.sql` files.
public enum MigrationLoader {
    /// Reads every `*.sql` file in `directory`.
    ///
    /// File names are `NNNN_name.sql` (any number of digits). Lines of the form `-- @hypertable TABLE(COLUMN)`
    /// declare hypertables. Other files are ignored.
    /// - Parameters:
    ///   - directory: The folder holding the migration files.
    /// - Returns: The migrations sorted by version.
    /// - Throws: ``PostgresError/Code/migrationFailed`` for an unreadable folder or file, a `.sql` file whose
    ///   name has no version, a duplicate version, or a malformed `@hypertable` line (each naming the file).
    public static func load(directory: URL) throws -> [Migration] {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        } catch {
            throw PostgresError(code: .migrationFailed, message: "cannot read migrations folder \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        var seen: [Int: String] = [:]
        for file in files where file.pathExtension == "sql" {
            let fileName = file.lastPathComponent
            let stem = file.deletingPathExtension().lastPathComponent
            let digits = stem.prefix(while: \.isNumber)
            guard !digits.isEmpty, let version = Int(digits), stem.dropFirst(digits.count).first == "_" else {
                throw PostgresError(code: .migrationFailed, message: "migration file \(fileName) is not named NNNN_name.sql")
            }
            if let other = seen[version] {
                throw PostgresError(code: .migrationFailed, message: "migration files \(other) and \(fileName) share version \(version)")
            }
            seen[version] = fileName
            let sql: String
            do {
                sql = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw PostgresError(code: .migrationFailed, message: "cannot read migration file \(fileName): \(error.localizedDescription)")
            }
            let name = String(stem.dropFirst(digits.count + 1))
            migrations.append(
                Migration(version: version, name: name, sql: sql, hypertables: try hypertables(in: sql, fileName: fileName), fileName: fileName)
            )
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Parses `-- @hypertable TABLE(COLUMN)` lines.
    static func hypertables(in sql: String, fileName: String) throws -> [(table: String, timeColumn: String)] {
        var result: [(table: String, timeColumn: String)] = []
        for (number, line) in sql.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("--") else { continue }
            let comment = trimmed.dropFirst(2).trimmingCharacters(in: .whitespaces)
            guard comment.hasPrefix("@hypertable") else { continue }
            let spec = comment.dropFirst("@hypertable".count).trimmingCharacters(in: .whitespaces)
            guard let open = spec.firstIndex(of: "("), spec.hasSuffix(")") else {
                throw PostgresError(code: .migrationFailed, message: "\(fileName) line \(number + 1): expected `-- @hypertable TABLE(COLUMN)`")
            }
            let table = spec[..<open].trimmingCharacters(in: .whitespaces)
            let column = spec[spec.index(after: open)..<spec.index(before: spec.endIndex)].trimmingCharacters(in: .whitespaces)
            guard !table.isEmpty, !column.isEmpty else {
                throw PostgresError(code: .migrationFailed, message: "\(fileName) line \(number + 1): expected `-- @hypertable TABLE(COLUMN)`")
            }
            result.append((table: table, timeColumn: column))
        }
        return result
    }
}

/// Applies migrations once each, recorded in `schema_migrations`.
///
/// Each migration runs in its own transaction together with its `schema_migrations` row, so a failing migration
/// leaves nothing behind and is retried on the next run. A session advisory lock serialises migrators, so two
/// services starting at once never both apply a migration. When the `timescaledb` extension is available,
/// declared hypertables are created; otherwise they stay plain tables.
public struct Migrator: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    /// Advisory lock key shared by every migrator of this schema ("schema_migrations" as a 63-bit number).
    static let lockKey: Int64 = 0x7363_6865_6D61_6D69

    /// Creates a migrator.
    /// - Parameters:
    ///   - client: The database to migrate.
    ///   - logger: Logger for applied migrations and the TimescaleDB decision.
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Whether the server offers the `timescaledb` extension (`pg_available_extensions`).
    /// - Returns: true when `CREATE EXTENSION timescaledb` can be attempted.
    /// - Throws: ``PostgresError`` when the query fails.
    public func timescaleAvailable() async throws -> Bool {
        let rows = try await client.query("SELECT count(*) AS n FROM pg_available_extensions WHERE name = $1", ["timescaledb"])
        return try (rows.first?.decode(Int.self, "n") ?? 0) > 0
    }

    /// Applies every migration not yet recorded, in version order.
    /// - Parameters:
    ///   - migrations: All known migrations (e.g. from ``MigrationLoader/load(directory:)``).
    /// - Returns: The versions applied by this call (empty when the schema was up to date).
    /// - Throws: ``PostgresError/Code/migrationFailed`` when a migration fails (it is rolled back and not recorded),
    ///   when an applied migration's SQL changed (checksum mismatch, naming the file), or on duplicate versions.
    public func migrate(_ migrations: [Migration]) async throws -> [Int] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw PostgresError(code: .migrationFailed, message: "migrations \(previous.label) and \(next.label) share version \(next.version)")
        }
        return try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
            do {
                let applied = try await apply(sorted, on: connection)
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                return applied
            } catch {
                // Unlock on a broken connection fails harmlessly: the server drops session locks with the session.
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                throw error
            }
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Int] {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version int PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        var recorded: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM schema_migrations") {
            recorded[try row.decode(Int.self, "version")] = try row.decode(String.self, "checksum")
        }
        for migration in migrations {
            if let checksum = recorded[migration.version], checksum != migration.checksum {
                throw PostgresError(
                    code: .migrationFailed,
                    message: "migration \(migration.label) (version \(migration.version)) was changed after it was applied: checksum \(migration.checksum) differs from recorded \(checksum)"
                )
            }
        }
        let pending = migrations.filter { recorded[$0.version] == nil }
        guard !pending.isEmpty else { return [] }

        var useHypertables = false
        if pending.contains(where: { !$0.hypertables.isEmpty }) {
            useHypertables = try await enableTimescale(on: connection)
        }
        var applied: [Int] = []
        for migration in pending {
            do {
                try await connection.inTransaction { connection in
                    try await connection.executeScript(migration.sql)
                    if useHypertables {
                        for hypertable in migration.hypertables {
                            _ = try await connection.query(
                                "SELECT create_hypertable($1::regclass, $2::name, if_not_exists => true, migrate_data => true)",
                                [hypertable.table, hypertable.timeColumn]
                            )
                        }
                    }
                    try await connection.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [migration.version, migration.name, migration.checksum]
                    )
                }
            } catch let error as PostgresError {
                throw PostgresError(
                    code: .migrationFailed,
                    message: "migration \(migration.label) (version \(migration.version)) failed and was rolled back: \(error.message)",
                    sqlState: error.sqlState
                )
            }
            logger.info(
                "applied migration",
                metadata: [PostgresLogKey.migrationVersion: "\(migration.version)", PostgresLogKey.migrationName: "\(migration.name)"]
            )
            applied.append(migration.version)
        }
        return applied
    }

    /// Creates the extension when the server offers it; false (plain tables) when it does not or cannot be loaded.
    private func enableTimescale(on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("SELECT count(*) AS n FROM pg_available_extensions WHERE name = $1", ["timescaledb"])
        guard try (rows.first?.decode(Int.self, "n") ?? 0) > 0 else {
            logger.notice("timescaledb extension not available: time-series tables stay plain tables")
            return false
        }
        do {
            try await connection.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            return true
        } catch let error as PostgresError where !error.isConnectionError {
            // Typically timescaledb is installed but not in shared_preload_libraries.
            logger.warning(
                "timescaledb extension could not be created: time-series tables stay plain tables",
                metadata: [PostgresLogKey.error: "\(error)"]
            )
            return false
        }
    }
}
