import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SharedPostgres
import Testing
import TestSupport

@testable import BackendService

@Suite("Derived bars and GET /bars")
struct BarViewsAndAPITests {
    let token: Int64 = 408_065
    let m = testMinute  // 09:15 IST, on the 5- and 15-minute grid

    /// 15 one-minute bars from 09:15 IST: open 100+i, high 101+i (minute 7 spikes to 150), low 99+i (minute 3 dips to 50),
    /// close 100.5+i, volume 10·(i+1), oi 1000+i; minute 14 is a tick bar, the rest backfill.
    func seed(_ postgres: PostgresClient) async throws {
        for i in 0..<15 {
            let high = i == 7 ? 150.0 : 101.0 + Double(i)
            let low = i == 3 ? 50.0 : 99.0 + Double(i)
            try await postgres.execute(
                "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                [token, Date(timeIntervalSince1970: TimeInterval(m + Int64(i) * 60)), 100.0 + Double(i), high, low, 100.5 + Double(i),
                 Int64(10 * (i + 1)), Int64(1000 + i), i == 14 ? "ticks" : "backfill"]
            )
        }
        try await postgres.execute(
            """
            INSERT INTO instruments (instrument_token, exchange_token, tradingsymbol, name, instrument_type, segment, exchange)
            VALUES ($1, 1594, 'INFY', 'INFOSYS', 'EQ', 'NSE', 'NSE')
            """,
            [token]
        )
    }

    @Test("bars_5m and bars_15m aggregate bars_1m: first open, max high, min low, last close, summed volume, last OI")
    func views() async throws {
        let fixture = try await BarFixture.make()
        try await seed(fixture.postgres)
        let five = try await fixture.postgres.query(
            "SELECT bucket AS time, open, high, low, close, volume, oi, source, minutes FROM bars_5m WHERE instrument_token = $1 ORDER BY bucket", [token])
        #expect(five.count == 3)
        let bars = try five.map(BarRepository.bar)
        #expect(bars[0] == StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m)), open: 100, high: 105, low: 50, close: 104.5,
                                     volume: 150, oi: 1004, source: "backfill"))
        #expect(bars[1] == StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m + 300)), open: 105, high: 150, low: 104, close: 109.5,
                                     volume: 400, oi: 1009, source: "backfill"))
        #expect(bars[2].source == "mixed" && bars[2].close == 114.5 && bars[2].volume == 650)
        #expect(try five.map { try $0.decode(Int.self, "minutes") } == [5, 5, 5])
        let fifteen = try await fixture.postgres.query(
            "SELECT bucket AS time, open, high, low, close, volume, oi, source FROM bars_15m WHERE instrument_token = $1", [token])
        #expect(try fifteen.map(BarRepository.bar) == [
            StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m)), open: 100, high: 150, low: 50, close: 114.5, volume: 1200, oi: 1014, source: "mixed")
        ])
        await fixture.close()
    }

    func router(_ fixture: BarFixture, maxPoints: Int = 20_000) -> Router<BasicRequestContext> {
        let router = Router()
        router.addRoutes(BarsController<BasicRequestContext>(repository: BarRepository(postgres: fixture.postgres), maxPoints: maxPoints, logger: fixture.logger).endpoints)
        return router
    }

    @Test("GET /bars serves 1min, 5min and 15min bars by token or by tradingsymbol+exchange")
    func barsEndpoint() async throws {
        let fixture = try await BarFixture.make()
        try await seed(fixture.postgres)
        let app = Application(router: router(fixture))
        try await app.test(.router) { client in
            let from = "2025-11-20T09:15:00%2B05:30"
            let to = "2025-11-20T09:29:00%2B05:30"
            try await client.execute(uri: "/bars?instrument_token=\(token)&from=\(from)&to=\(to)&timeframe=1min", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["instrument_token"] as? Int64 == token)
                #expect(json["timeframe"] as? String == "1min")
                #expect(json["tradingsymbol"] as? String == "INFY")
                let bars = try #require(json["bars"] as? [[String: Any]])
                #expect(bars.count == 15)
                #expect(bars.first?["time"] as? String == "2025-11-20T03:45:00Z")
                #expect(bars.first?["open"] as? Double == 100)
                #expect(bars.last?["source"] as? String == "ticks")
            }
            try await client.execute(uri: "/bars?tradingsymbol=infy&exchange=nse&from=\(from)&to=\(to)&timeframe=5min", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let bars = try #require(json["bars"] as? [[String: Any]])
                #expect(bars.map { $0["open"] as? Double } == [100, 105, 110])
                #expect(bars.map { $0["volume"] as? Int64 } == [150, 400, 650])
                #expect(bars.map { $0["high"] as? Double } == [105, 150, 115])
            }
            try await client.execute(uri: "/bars?instrument_token=\(token)&from=\(from)&to=\(to)&timeframe=15min", method: .get) { response in
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let bars = try #require(json["bars"] as? [[String: Any]])
                #expect(bars.count == 1)
                #expect(bars.first?["low"] as? Double == 50 && bars.first?["close"] as? Double == 114.5 && bars.first?["source"] as? String == "mixed")
            }
        }
        await fixture.close()
    }

    @Test("GET /bars rejects bad parameters with 400 and a message, unknown instruments with 404")
    func barsErrors() async throws {
        let fixture = try await BarFixture.make()
        try await seed(fixture.postgres)
        let app = Application(router: router(fixture, maxPoints: 1_000))
        try await app.test(.router) { client in
            let cases: [(String, String, String)] = [
                ("/bars?timeframe=1min", "missing_parameter", "instrument_token"),
                ("/bars?instrument_token=abc", "invalid_parameter", "instrument_token"),
                ("/bars?instrument_token=\(token)&timeframe=2min", "invalid_parameter", "timeframe"),
                ("/bars?instrument_token=\(token)&from=yesterday", "invalid_parameter", "from"),
                ("/bars?instrument_token=\(token)&from=2025-11-21&to=2025-11-20", "invalid_parameter", "after"),
                ("/bars?instrument_token=\(token)&from=2025-01-01&to=2025-11-20&timeframe=1min", "range_too_large", "at most 1000"),
                ("/bars?tradingsymbol=INFY", "missing_parameter", "exchange"),
            ]
            for (uri, code, mention) in cases {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    #expect(json["error"] as? String == code, "\(uri)")
                    #expect((json["message"] as? String)?.contains(mention) == true, "\(uri): \(json["message"] ?? "")")
                }
            }
            for uri in ["/bars?instrument_token=999999", "/bars?tradingsymbol=NOPE&exchange=NSE"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    #expect(json["error"] as? String == "unknown_instrument")
                }
            }
        }
        await fixture.close()
    }
}
