import Foundation
import Logging
import Shared
import SharedBasics
import SharedPostgres
import SharedRedis

/// Opens the Redis client and PostgreSQL pool a service needs at startup, and applies the migrations.
///
/// A dependency that cannot be reached at startup is a ``StartupError`` naming it and its address, so the
/// service exits with one clear line; once running, the clients reconnect by themselves and `/health`
/// reports what is down.
public enum StoreConnections {
    /// Connects to Redis.
    /// - Parameters:
    ///   - url: `REDIS_URL`.
    ///   - logger: Where the client logs.
    /// - Returns: A connected client.
    public static func redis(url: String, logger: Logger) async throws(StartupError) -> RedisClient {
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: url)
        } catch {
            throw StartupError(dependency: "redis", address: Redaction.redactURLPassword(url), reason: error.message)
        }
        let client = RedisClient(configuration: configuration, logger: logger)
        do {
            try await client.connect()
        } catch {
            await client.close()
            throw StartupError(dependency: "redis", address: configuration.address, reason: reason(error))
        }
        return client
    }

    /// Opens the PostgreSQL pool and checks one connection.
    /// - Parameters:
    ///   - url: `DATABASE_URL` (empty for libpq's `PG*` variables).
    ///   - poolSize: `DATABASE_POOL_SIZE`.
    ///   - applicationName: Shown in `pg_stat_activity`.
    ///   - logger: Where the pool logs.
    /// - Returns: A pool with one checked connection.
    public static func postgres(url: String, poolSize: Int, applicationName: String, logger: Logger) async throws(StartupError) -> PostgresClient {
        let configuration = PostgresConfiguration(connectionString: url, poolSize: poolSize, applicationName: applicationName)
        do {
            try configuration.validate()
        } catch {
            throw StartupError(dependency: "database", address: Redaction.redactURLPassword(url), reason: reason(error))
        }
        let client = PostgresClient(configuration: configuration, logger: logger)
        do {
            try await client.connect()
        } catch {
            await client.close()
            throw StartupError(dependency: "database", address: configuration.redactedDescription, reason: reason(error))
        }
        return client
    }

    /// Applies the platform's migrations (`Shared/Core/Migrations`), each once, under an advisory lock so
    /// two services starting together do not race.
    /// - Parameters:
    ///   - client: The pool.
    ///   - logger: Where progress is logged.
    /// - Returns: The versions applied now.
    @discardableResult
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws(StartupError) -> [Int] {
        do {
            let migrations = try MigrationLoader.load(directory: PlatformMigrations.directory)
            return try await Migrator(client: client, logger: logger).migrate(migrations)
        } catch {
            throw StartupError(dependency: "database", reason: "migrations failed: \(reason(error))")
        }
    }

    private static func reason(_ error: any Error) -> String {
        String(describing: error)
    }
}
