import Foundation
import SharedPostgres
import TestSupport
import Testing

@Suite("Connection pool")
struct PoolTests {
    @Test("100 concurrent tasks on a pool of 5 all finish and never use more than 5 server connections")
    func boundedUnderConcurrency() async throws {
        let applicationName = uniqueName("pooltest")
        try await withTestClient(poolSize: 5, applicationName: applicationName) { client, _ in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<100 {
                    group.addTask {
                        let rows = try await client.query(
                            "SELECT count(*) AS n, $2::int AS task, pg_sleep(0.01) FROM pg_stat_activity WHERE application_name = $1",
                            [applicationName, task])
                        return try rows[0].decode(Int.self, "n")
                    }
                }
                var counts: [Int] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            #expect(counts.count == 100)
            #expect(counts.allSatisfy { (1...5).contains($0) })
            #expect(counts.max() ?? 0 > 1)  // the pool really ran queries in parallel
            let after = try await client.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName])
            #expect(try after[0].decode(Int.self, "n") <= 5)
        }
    }

    @Test("a caller that cannot get a connection in time gets poolTimeout")
    func checkoutTimeout() async throws {
        try await withTestClient(poolSize: 1, checkoutTimeout: .milliseconds(200)) { client, _ in
            let (held, heldContinuation) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        try await connection.execute("SELECT 1")
                        heldContinuation.yield()
                        for await _ in release { break }
                    }
                }
                for await _ in held { break }
                let error = await #expect(throws: PostgresError.self) { try await client.ping() }
                #expect(error?.code == .poolTimeout)
                releaseContinuation.yield()
                try await group.waitForAll()
            }
            try await client.ping()
        }
    }

    @Test("cancelling a task cancels its running statement; the pool keeps working")
    func cancellation() async throws {
        let applicationName = uniqueName("canceltest")
        try await withTestClient(poolSize: 2, applicationName: applicationName) { client, _ in
            let sleeper = Task { try await client.query("SELECT pg_sleep(60)") }
            while try await client.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'",
                [applicationName])[0].decode(Int.self, "n") == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            for _ in 0..<5 { try await client.ping() }
        }
    }

    @Test func closedClientRefusesWork() async throws {
        let cluster = try await PostgresCluster.shared
        let client = PostgresClient(configuration: PostgresConfiguration(connectionString: cluster.connectionString()), logger: testLogger)
        try await client.ping()
        await client.close()
        let error = await #expect(throws: PostgresError.self) { try await client.ping() }
        #expect(error?.code == .poolClosed)
        await client.close()  // idempotent
    }
}
