import Foundation

/// Fault injection for the historical API; the simulator's `FaultInjector` conforms.
protocol HistoricalFaults: Sendable {
    /// True means: fail this request with a 500 `GeneralException`.
    func consumeHistoricalFailure() -> Bool
}

/// No faults (tests and callers that do not inject any).
struct NoHistoricalFaults: HistoricalFaults {
    func consumeHistoricalFailure() -> Bool { false }
}

/// What the simulator's historical APIs (Kite's and Dhan's) serve candles from, so that both answer from one market.
struct HistoricalCandleSource: Sendable {
    let market: MarketModel
    let universe: InstrumentUniverse
    let credentials: SimulatorCredentials
    let faults: any HistoricalFaults
    /// Served requests, for `GET /admin/historical`.
    let counter: HistoricalRequestCounter
    /// "Now": candles after it are not returned and the one containing it is partial.
    var now: @Sendable () -> Date = { Date() }
}
