import Foundation
import SharedPostgres

/// The database lease on the broker sessions (table `feed_lease`): the instance named in it is the only one that opens
/// broker sessions, while the lease is unexpired in database time. One statement takes a free or expired lease or
/// renews one's own, so two instances can never both hold it: PostgreSQL serialises the upserts on the row.
struct FeedLease: Sendable {
    /// Who holds a lease, as the table says.
    struct Holder: Sendable, Equatable {
        var owner: String
        var ownerURL: String
    }

    static let feedName = "feed"

    let postgres: PostgresClient
    /// This instance (``TickerConfiguration/instanceID``).
    let instanceID: String
    /// Where this instance serves HTTP, for the others to forward to.
    let advertisedURL: String
    /// How long a taken or renewed lease lasts.
    let duration: Duration

    /// Takes the lease when it is free or expired, or renews it when this instance holds it.
    /// - Returns: Whether this instance holds the lease now (for ``duration`` from the database's now).
    func acquireOrRenew() async throws -> Bool {
        let rows = try await postgres.query(
            """
            INSERT INTO feed_lease (name, owner, owner_url, acquired_at, expires_at)
            VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))
            ON CONFLICT (name) DO UPDATE SET
                owner = EXCLUDED.owner, owner_url = EXCLUDED.owner_url, expires_at = EXCLUDED.expires_at,
                acquired_at = CASE WHEN feed_lease.owner = EXCLUDED.owner THEN feed_lease.acquired_at ELSE now() END
            WHERE feed_lease.owner = EXCLUDED.owner OR feed_lease.expires_at < now()
            RETURNING owner
            """,
            [Self.feedName, instanceID, advertisedURL, Self.seconds(duration)]
        )
        return !rows.isEmpty
    }

    /// The unexpired holder, if any.
    func holder() async throws -> Holder? {
        let rows = try await postgres.query(
            "SELECT owner, owner_url FROM feed_lease WHERE name = $1 AND expires_at >= now()", [Self.feedName]
        )
        guard let row = rows.first else { return nil }
        return Holder(owner: try row.decode(String.self, "owner"), ownerURL: try row.decode(String.self, "owner_url"))
    }

    /// Gives the lease up at once (a clean stop), so another instance need not wait for it to expire.
    func release() async throws {
        try await postgres.execute("DELETE FROM feed_lease WHERE name = $1 AND owner = $2", [Self.feedName, instanceID])
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
