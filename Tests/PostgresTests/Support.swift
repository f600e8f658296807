import Foundation
import Logging
import SharedPostgres
import TestSupport

/// Quiet logger for clients under test.
let testLogger = Logger(label: "PostgresTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh database on the shared cluster and a client on it; the client is closed afterwards.
func withTestClient<T: Sendable>(
    poolSize: Int = 5,
    applicationName: String? = nil,
    checkoutTimeout: Duration = .seconds(30),
    _ body: (PostgresClient, String) async throws -> T
) async throws -> T {
    let cluster = try await PostgresCluster.shared
    let url = try await cluster.createDatabase()
    var configuration = PostgresConfiguration(connectionString: url, poolSize: poolSize, applicationName: applicationName)
    configuration.checkoutTimeout = checkoutTimeout
    let client = PostgresClient(configuration: configuration, logger: testLogger)
    do {
        let value = try await body(client, url)
        await client.close()
        return value
    } catch {
        await client.close()
        throw error
    }
}

struct ExpectedFailure: Error {}

/// A unique, identifier-safe suffix.
func uniqueName(_ prefix: String) -> String {
    prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
}
