import SharedPostgres

/// The outbox as the relay sees it.
protocol OutboxRepository: Sendable {
    /// Claims up to `limit` unpublished rows in id order (skipping rows another relay holds), hands them to
    /// `publish`, and marks as published the first N of them, N being what `publish` returns; all in one transaction,
    /// so a crash before the mark leaves them unpublished (published again later: at-least-once).
    /// - Returns: How many rows were claimed, and how many were marked published.
    func publishPending(limit: Int, _ publish: ([OutboxEntry]) async throws -> Int) async throws -> (claimed: Int, published: Int)
    /// Records a failed attempt on rows (best effort).
    func recordFailure(ids: [Int64], error: String) async throws
    /// How many rows are unpublished.
    func pendingCount() async throws -> Int
    /// Deletes published rows older than `age`.
    /// - Returns: How many were deleted.
    func purgePublished(olderThan age: Duration) async throws -> Int
}
