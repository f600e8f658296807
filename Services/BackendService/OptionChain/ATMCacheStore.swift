import Logging
import SharedPostgres

/// Seed 004's `atm_cache`: the strike step, ATM strike and price each held chain (a watchlist entry's, Tier B's) was
/// last centred on, per underlying and expiry, for operators asking "where is NIFTY's chain centred?".
struct ATMCacheStore: Sendable {
    let postgres: PostgresClient
    let logger: Logger

    /// Records where a held window is centred. Never throws: a row that cannot be written is only logged.
    func record(_ window: ChainWindow) async {
        do {
            _ = try await postgres.execute(
                """
                INSERT INTO atm_cache (symbol, expiry, strike_step, atm_strike, underlying_ltp, updated_at)
                VALUES ($1, $2::date, $3, $4, $5, now())
                ON CONFLICT (symbol, expiry) DO UPDATE SET strike_step = EXCLUDED.strike_step, atm_strike = EXCLUDED.atm_strike,
                    underlying_ltp = EXCLUDED.underlying_ltp, updated_at = now()
                """,
                [window.symbol, window.expiry, window.strikeStep, window.atmStrike, window.underlyingLTP]
            )
        } catch {
            logger.debug("atm_cache not written", metadata: [LogKey.symbol: "\(window.symbol)", LogKey.error: "\(error)"])
        }
    }

}
