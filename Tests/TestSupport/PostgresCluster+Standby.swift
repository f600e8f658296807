import Foundation
import Logging
import SharedPostgres

/// A streaming standby of a ``PostgresCluster``, for failover tests: `pg_basebackup` of the running primary into a new
/// temporary directory, its own port on 127.0.0.1, streaming replication from the primary until ``promote()``.
extension PostgresCluster {
    /// Makes a streaming standby of this (running) cluster and starts it; returns once the primary reports it streaming.
    /// - Returns: The standby, in recovery (read-only) until ``promote()``.
    /// - Throws: ``ChildProcessError`` when the base backup or the start fails, or the standby does not stream within 60 s.
    public func startStandby() async throws -> PostgresCluster {
        let directory = "/tmp/pgcluster-" + String(UUID().uuidString.prefix(8)).lowercased()
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        ClusterRegistry.register(directory)
        do {
            if let runAsUser { try Self.chown(paths: [directory, directory + "/sock"], to: runAsUser) }
            let port = Ports.freeLoopbackPort()
            let standby = PostgresCluster(port: port, directory: directory, binDirectory: binDirectory, runAsUser: runAsUser)
            // -R writes standby.signal and primary_conninfo; the copied postgresql.conf names the primary's port and socket
            // directory, so the standby's own are appended (the last setting wins).
            try await standby.runTool(
                "pg_basebackup",
                ["-h", "127.0.0.1", "-p", String(self.port), "-U", "postgres", "-D", standby.dataDirectory, "-R", "-X", "stream", "-c", "fast", "--no-sync"]
            )
            try Self.append(
                "\n# standby of 127.0.0.1:\(self.port)\nport = \(port)\nunix_socket_directories = '\(directory)/sock'\n",
                toFile: standby.dataDirectory + "/postgresql.conf"
            )
            try await standby.startServer()
            try await waitUntilStreaming()
            return standby
        } catch {
            ClusterRegistry.stopAndRemove(directory)
            throw error
        }
    }

    /// Makes every commit on this primary wait until a standby has flushed it (`synchronous_standby_names = '*'`,
    /// `synchronous_commit = on`), so a commit the client saw survives the primary's crash. Set after the base backup, so
    /// the standby does not inherit it and, once promoted, commits without waiting for a standby of its own.
    public func requireSynchronousStandby() async throws {
        try await withAdminClient { client in
            try await client.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            try await client.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
            _ = try await client.query("SELECT pg_reload_conf()")
        }
        try await waitUntil("the standby is synchronous", timeout: .seconds(30), every: .milliseconds(100)) {
            try await self.withAdminClient { client in
                try await client.query("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'").count == 1
            }
        }
    }

    /// Ends recovery on this standby (`pg_ctl promote`): it accepts writes from then on.
    /// - Throws: ``ChildProcessError`` when `pg_ctl promote` fails or times out.
    public func promote() async throws {
        try await runTool("pg_ctl", ["promote", "-D", dataDirectory, "-w", "-t", "60", "-s"])
    }

    /// Waits until the primary lists a standby in `pg_stat_replication` as streaming.
    private func waitUntilStreaming() async throws {
        try await waitUntil("the standby streams from the primary", timeout: .seconds(60), every: .milliseconds(100)) {
            try await self.withAdminClient { client in
                try await client.query("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'").count == 1
            }
        }
    }

    private func withAdminClient<T: Sendable>(_ body: (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: connectionString(), poolSize: 1, applicationName: "PostgresCluster"),
            logger: Logger(label: "TestSupport.PostgresCluster", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            throw error
        }
    }
}
