import Foundation
import SharedPostgres
import TestSupport
import Testing

/// These tests stop and restart a server, so each starts its own cluster instead of the shared one.
@Suite("Recovery after the server goes away")
struct ReconnectTests {
    @Test("after a restart the next query succeeds on fresh connections")
    func reconnectAfterRestart() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: cluster.connectionString(), poolSize: 3), logger: testLogger)
        // Open all three connections so every pooled connection goes stale across the restart.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { _ = try await client.query("SELECT pg_sleep(0.05)") } }
            try await group.waitForAll()
        }
        let before = try await client.query("SELECT pg_postmaster_start_time() AS started")[0].decode(Date.self, "started")
        try await cluster.restart()
        let after = try await client.query("SELECT pg_postmaster_start_time() AS started")[0].decode(Date.self, "started")
        #expect(after > before)
        for _ in 0..<10 { try await client.ping() }
        await client.close()
    }

    @Test("a statement in flight when the server stops throws connectionLost; it is not re-run; later queries work")
    func inFlightStatementFailsCleanly() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let applicationName = uniqueName("inflight")
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: cluster.connectionString(), poolSize: 2, applicationName: applicationName),
            logger: testLogger)
        try await client.execute("CREATE TABLE attempts (n int)")
        let inFlight = Task {
            try await client.query("INSERT INTO attempts SELECT 1 FROM pg_sleep(60) RETURNING n")
        }
        while try await client.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'INSERT INTO attempts%' AND state = 'active'",
            [applicationName])[0].decode(Int.self, "n") == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await cluster.restart()
        let error = await #expect(throws: PostgresError.self) { _ = try await inFlight.value }
        #expect(error?.code == .connectionLost)
        #expect(error?.isConnectionError == true)
        #expect(try await client.query("SELECT count(*) AS n FROM attempts")[0].decode(Int.self, "n") == 0)
        await client.close()
    }

    @Test("while the server is down queries throw connectionFailed naming the target; once it is back they succeed")
    func serverDownThenUp() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: cluster.connectionString(), poolSize: 2, connectTimeout: .seconds(2)),
            logger: testLogger)
        try await client.ping()
        try await cluster.stopServer()
        for _ in 0..<3 {
            let error = await #expect(throws: PostgresError.self) { try await client.ping() }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("host=127.0.0.1 port=\(cluster.port)") == true)
        }
        try await cluster.startServer()
        try await client.ping()
        await client.close()
    }
}
