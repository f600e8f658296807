/// The instruments a user's watchlist streams: every instrument it holds (an underlying's chain window and the
/// underlying itself, and single instruments). The quote stream's `{"action":"watchlist"}` asks this.
protocol WatchlistTokens: Sendable {
    /// The tokens, or nil when the user has no watchlist entry at all.
    /// - Parameter userID: The user (validated by the caller).
    func watchlistTokens(userID: String) async throws -> [Int64]?
}
