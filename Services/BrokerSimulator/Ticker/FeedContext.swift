import Logging

/// What each simulated feed (Kite's ticker, Dhan's market feed) serves from. Both feeds share one of each, so a fault
/// injected through the admin API, a connection limit or a credential change applies to both.
struct FeedContext: Sendable {
    /// The instruments that exist on the trading date.
    let universe: InstrumentUniverse
    /// The price paths every tick is read from.
    let market: MarketModel
    /// Which API keys and access tokens are accepted.
    let credentials: SimulatorCredentials
    /// The open connections of both feeds (the admin API lists and drops them).
    let registry: ConnectionRegistry
    /// Faults injected through the admin API.
    let faults: FaultInjector
    /// Tick rate, heartbeat and limits.
    let settings: TickerSettings
}
