import Foundation
import ServiceRuntime
import Testing
import TickerAPIModel

@testable import TickerService

@Suite("GET /subscriptions body writer")
struct SubscriptionListWriterTests {
    static func record(_ token: Int64, symbol: String, account: String?, connection: Int?, holders: [SubscriptionHolder], created: Double) -> SubscriptionRecord {
        SubscriptionRecord(
            instrumentToken: token, tradingsymbol: symbol, segment: "NFO-OPT", exchange: "NFO", mode: .full, status: account == nil ? .inactive : .active,
            accountID: account, connectionID: connection, holders: holders,
            createdAt: Date(timeIntervalSince1970: created), updatedAt: Date(timeIntervalSince1970: created + 86_399.999_9)
        )
    }

    static let records: [SubscriptionRecord] = [
        record(13_660_418, symbol: "NIFTY25NOV24500CE", account: "primary", connection: 2,
               holders: [SubscriptionHolder(holder: "tier:always-on", mode: .ltp), SubscriptionHolder(holder: "user:42", mode: .full)], created: 1_763_610_300.25),
        record(256_265, symbol: "NIFTY 50", account: nil, connection: nil, holders: [], created: 0),
        // Characters JSON must escape, a slash it must not, and non-ASCII text.
        record(738_561, symbol: #"M&M "Q" \ A/B ₹"#, account: "acct/with\"quote", connection: 1,
               holders: [SubscriptionHolder(holder: "user:é", mode: .quote)], created: 951_782_399.999),
    ]

    @Test("writes the document JSONEncoder writes: same keys in the same order, same values, dates to the second")
    func matchesTheEncoder() throws {
        let written = String(buffer: SubscriptionListWriter.body(Self.records))
        let list = SubscriptionListJSON(Self.records)
        let encoded = String(decoding: try APIJSON.encoder().encode(list), as: UTF8.self)
        #expect(written == encoded)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
        let rows = try #require(object["subscriptions"] as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows[0]["created_at"] as? String == "2025-11-20T03:45:00Z")
        #expect(rows[0]["updated_at"] as? String == "2025-11-21T03:45:00Z")
        #expect(rows[2]["created_at"] as? String == "2000-02-28T23:59:59Z", "fractions are dropped, not rounded")
        #expect(rows[2]["tradingsymbol"] as? String == #"M&M "Q" \ A/B ₹"#)
        #expect(rows[1]["account_id"] is NSNull)
    }

    @Test("an empty list")
    func empty() {
        #expect(String(buffer: SubscriptionListWriter.body([])) == #"{"count":0,"subscriptions":[]}"#)
    }
}
