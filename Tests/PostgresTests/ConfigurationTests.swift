import Foundation
import SharedPostgres
import TestSupport
import Testing

@Suite("PostgresConfiguration")
struct ConfigurationTests {
    @Test("libpq rejects malformed connection strings with a typed error", arguments: [
        "host=localhost nonsense",
        "postgresql://localhost/db?bogus_option=1",
        "unknown_key=value",
        "postgresql://[::1/db",
        "postgresql://u@localhost:99999/db",
        "host=localhost port=abc",
    ])
    func malformedStrings(_ connectionString: String) throws {
        let configuration = PostgresConfiguration(connectionString: connectionString)
        let error = #expect(throws: PostgresError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(configuration.redactedDescription == "<invalid connection string>")
    }

    @Test func poolSizeMustBePositive() {
        let error = #expect(throws: PostgresError.self) { try PostgresConfiguration(connectionString: "", poolSize: 0).validate() }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func urlDescriptionHasTargetButNoPassword() throws {
        let configuration = PostgresConfiguration(connectionString: "postgresql://alice:s3cretPW@db.example:5433/market?sslmode=disable")
        try configuration.validate()
        #expect(configuration.redactedDescription == "host=db.example port=5433 dbname=market user=alice")
        #expect(!configuration.redactedDescription.contains("s3cretPW"))
    }

    @Test func keyValueAndMultiHostForms() throws {
        let configuration = PostgresConfiguration(
            connectionString: "host=h1,h2 port=5432,5433 dbname=ticks user=svc password=hunter22 target_session_attrs=read-write")
        try configuration.validate()
        #expect(configuration.redactedDescription == "host=h1,h2 port=5432,5433 dbname=ticks user=svc")
        let url = PostgresConfiguration(connectionString: "postgresql://svc:pw@h1:5432,h2:5433/ticks?target_session_attrs=read-write")
        try url.validate()
        #expect(url.redactedDescription == "host=h1,h2 port=5432,5433 dbname=ticks user=svc")
    }

    @Test func parseErrorsNeverEchoThePassword() {
        let configuration = PostgresConfiguration(connectionString: "password=topsecret99 host")
        let error = #expect(throws: PostgresError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(!(error?.message.contains("topsecret99") ?? true))
        #expect(!(error.map { "\($0)" }?.contains("topsecret99") ?? true))
    }

    @Test func databaseURLFromEnvironment() {
        let configuration = PostgresConfiguration.fromEnvironment(["DATABASE_URL": "postgresql://a@b:1234/c"], poolSize: 3)
        #expect(configuration.connectionString == "postgresql://a@b:1234/c")
        #expect(configuration.poolSize == 3)
        #expect(PostgresConfiguration.fromEnvironment([:]).connectionString == "")
    }

    @Test func connectReportsInvalidConfigurationWithoutNetwork() async {
        let client = PostgresClient(configuration: PostgresConfiguration(connectionString: "nonsense_key=1"), logger: testLogger)
        let error = await #expect(throws: PostgresError.self) { try await client.connect() }
        #expect(error?.code == .invalidConfiguration)
        await client.close()
    }

    @Test("an unreachable server is a connectionFailed error naming host:port/db, never the password")
    func unreachableServer() async {
        let port = Ports.freeLoopbackPort()
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: "postgresql://trader:pa55word@127.0.0.1:\(port)/nowhere", connectTimeout: .seconds(2)),
            logger: testLogger
        )
        let error = await #expect(throws: PostgresError.self) { try await client.connect() }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isConnectionError == true)
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("host=127.0.0.1 port=\(port) dbname=nowhere user=trader"))
        #expect(!text.contains("pa55word"))
        await client.close()
    }

    @Test func unknownDatabaseIsConnectionFailed() async throws {
        let cluster = try await PostgresCluster.shared
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: cluster.connectionString(database: "no_such_db")), logger: testLogger)
        let error = await #expect(throws: PostgresError.self) { try await client.ping() }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("dbname=no_such_db") == true)
        #expect(error?.message.contains("does not exist") == true)
        await client.close()
    }
}
