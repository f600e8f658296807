import Foundation
import ServiceRuntime
import Testing

@testable import BackendService

/// The bodies keep the fields clients rely on: absent values are written as `null`, not left out.
@Suite("BackendService response bodies")
struct ResponseBodyTests {
    static func object(_ value: some Encodable) throws -> [String: Any] {
        let data = try APIJSON.encoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("GET /bars: tradingsymbol and exchange are null for an instrument not in instruments; times are ISO-8601")
    func barsNulls() throws {
        let bar = StoredBar(
            time: Date(timeIntervalSince1970: 1_763_610_300), open: 100, high: 105, low: 50, close: 104.5, volume: 150, oi: 1004, source: "backfill", final: true
        )
        let body = BarsBody(
            instrument: InstrumentRef(instrumentToken: 408_065, tradingsymbol: nil, exchange: nil), timeframe: "1min",
            from: Date(timeIntervalSince1970: 1_763_610_000), to: Date(timeIntervalSince1970: 1_763_610_400), bars: [bar]
        )
        let json = try Self.object(body)
        #expect(json["tradingsymbol"] is NSNull && json["exchange"] is NSNull)
        #expect(json["count"] as? Int == 1)
        let bars = try #require(json["bars"] as? [[String: Any]])
        #expect(bars.first?["time"] as? String == "2025-11-20T03:45:00Z")
        #expect(Set(bars.first?.keys.map { $0 } ?? []) == ["time", "open", "high", "low", "close", "volume", "oi", "source", "final"])
        #expect(bars.first?["final"] as? Bool == true)
    }

    @Test("strike distribution: a missing side and an undefined put/call ratio are null")
    func strikeNulls() throws {
        let call = OptionBarRow(
            contract: OptionContract(instrumentToken: 1, tradingsymbol: "NIFTY25NOV24500CE", expiry: "2025-11-25", strike: 24_500, optionType: "CE"),
            time: Date(timeIntervalSince1970: 1_763_610_300), close: 12, volume: 3, oi: 0
        )
        let series = StrikeDistributionBody.series([call])
        let json = try Self.object(StrikeDistributionBody(series: series, metadata: .init(symbol: "NIFTY", timeframe: "5min", expiries: ["2025-11-25"])))
        let expiry = try #require((json["series"] as? [[String: Any]])?.first)
        #expect(expiry["pcr"] is NSNull)
        let strike = try #require((expiry["strikes"] as? [[String: Any]])?.first)
        #expect(strike["put"] is NSNull)
        #expect((strike["call"] as? [String: Any])?["instrument_token"] as? Int == 1)
        let metadata = try #require(json["metadata"] as? [String: Any])
        #expect(metadata["underlying"] == nil, "optional metadata stays out until auto-subscription ran")
        #expect(metadata["newly_subscribed"] as? [Int] == [])
    }
}
