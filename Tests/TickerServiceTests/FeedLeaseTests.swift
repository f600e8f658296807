import Foundation
import Logging
import ServiceRuntime
import SharedPostgres
import Testing
import TestSupport

@testable import TickerService

/// The broker sessions' lease against a real PostgreSQL (docs/operations.md, several TickerService instances).
@Suite("Feed lease")
struct FeedLeaseTests {
    @Test("one holder at a time: taken when free, renewed by its holder, refused to others until it expires, free again once released")
    func oneHolderAtATime() async throws {
        try await awaitSharedPostgres()
        let database = try await PostgresCluster.shared.createDatabase()
        let postgres = PostgresClient(
            configuration: PostgresConfiguration(connectionString: database, poolSize: 4, applicationName: "lease-tests"), logger: Logger(label: "tests.postgres")
        )
        defer { Task { await postgres.close() } }
        try await StoreConnections.migrate(postgres, logger: Logger(label: "tests.migrate"))
        let a = FeedLease(postgres: postgres, instanceID: "a", advertisedURL: "http://a", duration: .seconds(2))
        let b = FeedLease(postgres: postgres, instanceID: "b", advertisedURL: "http://b", duration: .seconds(2))

        #expect(try await b.holder() == nil)
        // Both ask at once: exactly one gets it.
        async let first = a.acquireOrRenew()
        async let second = b.acquireOrRenew()
        let (gotA, gotB) = try await (first, second)
        #expect(gotA != gotB, "a: \(gotA), b: \(gotB)")
        let (owner, other) = gotA ? (a, b) : (b, a)
        #expect(try await other.holder() == FeedLease.Holder(owner: owner.instanceID, ownerURL: owner.advertisedURL))

        // Renewed by its holder for longer than one lease; the other is refused all along.
        for _ in 0..<6 {
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await owner.acquireOrRenew())
            #expect(try await !other.acquireOrRenew())
        }
        // Unrenewed, it expires and the other takes it; the former holder is refused.
        try await Task.sleep(for: .milliseconds(2_400))
        #expect(try await owner.holder() == nil)
        #expect(try await other.acquireOrRenew())
        #expect(try await !owner.acquireOrRenew())
        // Released, it is free at once; releasing someone else's lease does nothing.
        try await owner.release()
        #expect(try await owner.holder()?.owner == other.instanceID)
        try await other.release()
        #expect(try await owner.holder() == nil)
        #expect(try await owner.acquireOrRenew())
    }
}
