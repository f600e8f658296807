import BrokerWire
import Testing

@Suite("Dhan charts JSON")
struct DhanHistoricalTests {
    @Test("candles round-trip through Dhan's columns; dates are IST; bad bodies are refused with the field named")
    func roundTrip() throws {
        let candles = (0..<5).map { KiteCandle(timestamp: 1_763_610_300 + Int64($0) * 60, open: 100.5, high: 101.25, low: 99, close: 100, volume: Int64($0), oi: 9) }
        #expect(try DhanChartsJSON.parse(DhanChartsJSON.encode(candles, includeOI: true)) == candles)
        #expect(try DhanChartsJSON.parse(DhanChartsJSON.encode(candles, includeOI: false)) == candles.map { var c = $0; c.oi = nil; return c })
        #expect(try DhanChartsJSON.parse("{}").isEmpty)
        #expect(DhanChartsJSON.formatDate(1_763_610_300) == "2025-11-20 09:15:00")
        #expect(DhanChartsJSON.parseDate("2025-11-20 09:15:00") == 1_763_610_300 && DhanChartsJSON.parseDate("2025-11-20T09:15:00") == nil)
        #expect(throws: DhanWireError.self) { try DhanChartsJSON.parse(#"{"open":[1,2],"high":[1],"low":[1],"close":[1],"volume":[1],"timestamp":[1]}"#) }
        #expect(throws: DhanWireError.self) { try DhanChartsJSON.parse(#"{"open":[1]}"#) }

        let request = DhanChartRequest(securityId: "13", exchangeSegment: .idxI, instrument: "INDEX", interval: .twentyFive, oi: true,
                                       fromDate: "2025-11-20 09:15:00", toDate: "2025-11-20 15:30:00")
        #expect(try DhanChartRequest.decode(jsonText: request.jsonText()) == request)
        // dhanhq's body: interval as a number, an extra dhanClientId.
        let dhanhq = #"{"securityId": "2885", "exchangeSegment": "NSE_EQ", "instrument": "EQUITY", "interval": 1, "oi": false, "fromDate": "2025-11-20", "toDate": "2025-11-21", "dhanClientId": "x"}"#
        #expect(try DhanChartRequest.decode(jsonText: dhanhq).interval == .one)
        #expect(throws: DhanWireError.self) { try DhanChartRequest.decode(jsonText: dhanhq.replacingOccurrences(of: "\"interval\": 1", with: "\"interval\": 2")) }
        #expect(DhanChartInterval(kite: .threeMinute) == nil && DhanChartInterval(kite: .sixtyMinute) == .sixty)
        #expect(DhanAPIErrorBody.parse(#"{"errorType":"Rate_Limit","errorCode":"DH-904","errorMessage":"slow"}"#)?.errorCode == DhanAPIErrorBody.rateLimit)
    }
}
