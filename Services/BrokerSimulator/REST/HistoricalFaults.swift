/// Fault injection for the historical API; the simulator's `FaultInjector` conforms.
protocol HistoricalFaults: Sendable {
    /// True means: fail this request with a 500 `GeneralException`.
    func consumeHistoricalFailure() -> Bool
}

/// No faults (tests and callers that do not inject any).
struct NoHistoricalFaults: HistoricalFaults {
    func consumeHistoricalFailure() -> Bool { false }
}
