import BrokerWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BrokerSimulator

@Suite("Dhan charts API and scrip master")
struct DhanChartsAPITests {
    static let auth: HTTPFields = [HTTPField.Name("client-id")!: "sim_api_key", HTTPField.Name("access-token")!: "sim_access_token", .contentType: "application/json"]

    func app(clock: ManualClock = ManualClock(), faults: any HistoricalFaults = NoHistoricalFaults(), counter: HistoricalRequestCounter = HistoricalRequestCounter()) -> some ApplicationProtocol {
        let router = Router()
        router.addRoutes(
            DhanChartsController(
                source: HistoricalCandleSource(
                    market: MarketFixture.market, universe: MarketFixture.universe, credentials: .default, faults: faults, counter: counter,
                    now: { HistoricalAPITests.now }
                ),
                rateLimiter: HistoricalRateLimiter(requestsPerSecond: 5, clock: { clock.now })
            ).endpoints
        )
        router.addRoutes(DhanScripMasterController(universe: MarketFixture.universe).endpoints)
        return Application(router: router)
    }

    static func body(securityId: String = "13", segment: String = "IDX_I", instrument: String = "INDEX", interval: String = "1", oi: Bool = false,
                     from: String = "2025-11-20 09:15:00", to: String = "2025-11-20 09:21:00") -> ByteBuffer {
        ByteBuffer(string: #"{"securityId":"\#(securityId)","exchangeSegment":"\#(segment)","instrument":"\#(instrument)","interval":\#(interval),"oi":\#(oi),"fromDate":"\#(from)","toDate":"\#(to)","dhanClientId":"sim_api_key"}"#)
    }

    static func error(_ response: TestResponse) -> DhanAPIErrorBody? { DhanAPIErrorBody.parse(String(buffer: response.body)) }

    @Test("candles are the Kite API's for the same minutes (toDate exclusive), NIFTY as IDX_I 13; 25-minute candles from the same minutes")
    func candlesMatchKite() async throws {
        let counter = HistoricalRequestCounter()
        try await app(counter: counter).test(.router) { client in
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: Self.body()) { response in
                #expect(response.status == .ok)
                let candles = try DhanChartsJSON.parse(String(buffer: response.body))
                let from = KiteHistoricalJSON.parseTimestamp("2025-11-20 09:15:00")!, to = KiteHistoricalJSON.parseTimestamp("2025-11-20 09:20:59")!
                let kite = MarketFixture.market.candles(
                    token: 256_265, interval: .minute, from: Date(timeIntervalSince1970: TimeInterval(from)), to: Date(timeIntervalSince1970: TimeInterval(to)), includeOI: false)
                #expect(candles.count == 6 && candles == kite)
            }
            // An NFO option with oi, in 1- and 25-minute candles: a 25-minute candle aggregates the 1-minute ones. The fixture's
            // session is always open, so buckets count from midnight: 09:10 and 09:35 start 25-minute candles.
            let option = try #require(MarketFixture.universe.instruments.first { $0.exchange == "NFO" && $0.isOption && $0.name == "NIFTY" })
            let id = String(option.exchangeToken)
            var minutes: [KiteCandle] = []
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth,
                                     body: Self.body(securityId: id, segment: "NSE_FNO", instrument: "OPTIDX", oi: true, from: "2025-11-20 09:10:00", to: "2025-11-20 10:00:00")) { response in
                #expect(response.status == .ok)
                minutes = try DhanChartsJSON.parse(String(buffer: response.body))
                #expect(minutes.count == 50 && minutes.allSatisfy { $0.oi != nil })
            }
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth,
                                     body: Self.body(securityId: id, segment: "NSE_FNO", instrument: "OPTIDX", interval: "\"25\"", oi: true, from: "2025-11-20 09:10:00", to: "2025-11-20 10:00:00")) { response in
                #expect(response.status == .ok)
                let candles = try DhanChartsJSON.parse(String(buffer: response.body))
                #expect(candles.count == 2)
                #expect(candles.first?.open == minutes.first?.open && candles.first?.close == minutes[24].close)
                #expect(candles.first?.volume == minutes.prefix(25).reduce(0) { $0 + $1.volume })
                #expect(candles.last?.high == minutes.suffix(25).map(\.high).max() && candles.last?.oi == minutes.last?.oi)
            }
        }
        #expect(counter.snapshot.byBroker == [.dhan: 3])
    }

    @Test("Dhan's errors: DH-901 (401) bad credentials, DH-905 (400) bad input, DH-907 unknown security, DH-908 (500) fault")
    func errors() async throws {
        // A clock that moves a second per request keeps the rate limit out of the way.
        let clock = ManualClock()
        try await app(clock: clock, faults: CountingFaults(failures: 1)).test(.router) { client in
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: Self.body()) { response in
                #expect(response.status == .internalServerError && Self.error(response)?.errorCode == "DH-908")
            }
            var wrong = Self.auth
            wrong[HTTPField.Name("access-token")!] = "nope"
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: wrong, body: Self.body()) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == #"{"errorType":"Invalid_Authentication","errorCode":"DH-901","errorMessage":"Client ID or user generated access token is invalid or expired."}"#)
            }
            for (body, fragment) in [
                (Self.body(instrument: "EQUITY"), "does not match"),
                (Self.body(interval: "2"), "interval"),
                (Self.body(segment: "NSE_XX"), "exchangeSegment"),
                (Self.body(from: "20-11-2025"), "fromDate"),
                (Self.body(from: "2025-08-01", to: "2025-11-20"), "90 days"),
                (ByteBuffer(string: "{"), "JSON"),
            ] {
                clock.advance(by: .seconds(1))
                try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: body) { response in
                    #expect(response.status == .badRequest)
                    let error = Self.error(response)
                    #expect(error?.errorCode == "DH-905" && error?.errorType == "Input_Exception")
                    #expect(error?.errorMessage.contains(fragment) == true, "\(error?.errorMessage ?? String(buffer: response.body))")
                }
            }
            clock.advance(by: .seconds(1))
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: Self.body(securityId: "99999")) { response in
                #expect(response.status == .badRequest && Self.error(response)?.errorCode == "DH-907")
            }
        }
    }

    @Test("Dhan's Data-API limit: 5 requests per second per client id, then 429 DH-904")
    func rateLimit() async throws {
        let clock = ManualClock()
        try await app(clock: clock).test(.router) { client in
            for _ in 0..<5 {
                try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: Self.body()) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: Self.body()) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Self.error(response) == DhanAPIErrorBody(errorType: "Rate_Limit", errorCode: "DH-904", errorMessage: DhanAPIError.rateLimited.body.errorMessage))
            }
            clock.advance(by: .milliseconds(1001))
            try await client.execute(uri: "/v2/charts/intraday", method: .post, headers: Self.auth, body: Self.body()) { #expect($0.status == .ok) }
        }
    }

    @Test("the compact scrip master lists every mapped instrument with Dhan's columns; each row maps back to its Kite instrument")
    func scripMaster() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/dhan/api-scrip-master.csv", method: .get) { response in
                #expect(response.status == .ok)
                let lines = String(buffer: response.body).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
                #expect(lines.first == DhanScripMasterController<BasicRequestContext>.header)
                let rows = lines.dropFirst()
                let mapped = MarketFixture.universe.instruments.filter { (try? DhanInstrumentMap.dhanInstrument(forKiteToken: $0.instrumentToken).get()) != nil }
                #expect(rows.count == mapped.count && rows.count > 1000)
                #expect(rows.contains { $0[0] == "NSE" && $0[1] == "I" && $0[2] == "13" && $0[3] == "INDEX" })
                let segments: [String: DhanExchangeSegment] = ["NSE/I": .idxI, "BSE/I": .idxI, "NSE/E": .nseEQ, "BSE/E": .bseEQ, "NSE/D": .nseFNO, "BSE/D": .bseFNO, "MCX/M": .mcxComm]
                for row in rows {
                    let segment = try #require(segments["\(row[0])/\(row[1])"], "unknown exchange/segment \(row[0])/\(row[1])")
                    let token = try #require(DhanInstrumentMap.kiteToken(for: DhanInstrumentID(segment, UInt32(row[2])!)))
                    let kite = try #require(MarketFixture.universe.instrument(token: token), "row \(row) maps to no instrument")
                    #expect(row[10] == (kite.isOption ? kite.instrumentType : "XX"))
                    #expect(Int(Double(row[6])!) == kite.lotSize)
                }
            }
        }
    }
}
