import BrokerWire

extension InstrumentUniverse {
    /// The `instrument` Dhan's charts API and scrip master give an instrument (`INDEX`, `EQUITY`, `OPTIDX`, ...), from
    /// its Kite row and whether its underlying is an index; nil for a token the universe does not list.
    func dhanChartInstrument(token: UInt32) -> String? {
        guard let row = instrument(token: token) else { return nil }
        let underlyingIsIndex = underlyingToken(of: token).flatMap { KiteSegment(token: $0) } == .indices
        return DhanInstrumentMap.chartInstrument(forKiteToken: token, instrumentType: row.instrumentType, underlyingIsIndex: underlyingIsIndex)
    }
}
