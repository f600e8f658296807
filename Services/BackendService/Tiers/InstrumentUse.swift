/// Where a use of an instrument is recorded for the cap's least-recently-used eviction (docs/tiers.md): subscribing it,
/// viewing it in an option chain or a watchlist, quoting it, or streaming it to a terminal all count.
protocol InstrumentUse: Sendable {
    /// Marks the instruments as used now. Cheap and never throws: a use that cannot be recorded only makes the
    /// instrument look older to the eviction.
    /// - Parameter tokens: Instrument tokens; unknown or unheld ones are ignored.
    func touched(_ tokens: [Int64]) async
}

/// Records nothing (builds and tests that have no tiers).
struct NoInstrumentUse: InstrumentUse {
    func touched(_ tokens: [Int64]) async {}
}
