import BrokerWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import BrokerSimulator

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// Fails the next `count` historical calls.
final class CountingFaults: HistoricalFaults {
    private let left: Mutex<Int>
    init(failures: Int) { left = Mutex(failures) }
    func consumeHistoricalFailure() -> Bool {
        left.withLock { left in
            guard left > 0 else { return false }
            left -= 1
            return true
        }
    }
}

@Suite("Historical candles API")
struct HistoricalAPITests {
    static let auth: HTTPFields = [.authorization: "token sim_api_key:sim_access_token"]
    static let now = Date(timeIntervalSince1970: TimeInterval(ISTClock.unixSecond(MarketFixture.date.calendarDate, hour: 15, minute: 0)))

    func app(clock: ManualClock = ManualClock(), faults: any HistoricalFaults = NoHistoricalFaults()) -> some ApplicationProtocol {
        let router = Router()
        router.addRoutes(
            HistoricalController(
                market: MarketFixture.market, universe: MarketFixture.universe, credentials: .default,
                rateLimiter: HistoricalRateLimiter(requestsPerSecond: 3, clock: { clock.now }), faults: faults, now: { Self.now }
            ).endpoints
        )
        return Application(router: router)
    }

    static func path(token: UInt32 = 256_265, interval: String = "minute", from: String = "2025-11-20 09:15:00",
                     to: String = "2025-11-20 09:20:00", extra: String = "") -> String {
        let encode = { (s: String) in s.replacingOccurrences(of: " ", with: "%20") }
        return "/instruments/historical/\(token)/\(interval)?from=\(encode(from))&to=\(encode(to))\(extra)"
    }

    static func errorJSON(_ message: String, _ type: String) -> String {
        #"{"status":"error","message":"\#(message)","data":null,"error_type":"\#(type)"}"#
    }

    @Test func returnsKitesJSONShape() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: Self.path(extra: "&oi=1"), method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = String(buffer: response.body)
                #expect(body.hasPrefix(#"{"status":"success","data":{"candles":[["2025-11-20T09:15:00+0530","#))
                let candles = try KiteHistoricalJSON.parse(body)
                #expect(candles.count == 6)
                #expect(candles.allSatisfy { $0.oi != nil })
                let expected = MarketFixture.market.candles(
                    token: 256_265, interval: .minute, from: Date(timeIntervalSince1970: TimeInterval(candles[0].timestamp)),
                    to: Date(timeIntervalSince1970: TimeInterval(candles[5].timestamp)), includeOI: true)
                #expect(candles == expected)
            }
            // Without oi=1 each candle has six elements; a date-only range covers whole days up to "now".
            try await client.execute(uri: Self.path(token: 738_561, interval: "15minute", from: "2025-11-19", to: "2025-11-20"), method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                let candles = try KiteHistoricalJSON.parse(String(buffer: response.body))
                #expect(candles.allSatisfy { $0.oi == nil })
                #expect(candles.count == 96 + 61)  // all of the 19th, the 20th up to the 15:00 candle in progress
                #expect(KiteHistoricalJSON.formatTimestamp(candles.last!.timestamp) == "2025-11-20T15:00:00+0530")
            }
        }
    }

    @Test func acceptsQueryCredentialsAndRejectsBadOnes() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: Self.path(extra: "&api_key=sim_api_key_2&access_token=sim_access_token_2"), method: .get) { response in
                #expect(response.status == .ok)
            }
            for headers: HTTPFields in [[:], [.authorization: "token sim_api_key:wrong"], [.authorization: "Bearer sim_access_token"]] {
                try await client.execute(uri: Self.path(), method: .get, headers: headers) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body) == Self.errorJSON("Incorrect `api_key` or `access_token`.", "TokenException"))
                }
            }
        }
    }

    @Test func limitsThreeRequestsPerSecondPerKey() async throws {
        let clock = ManualClock()
        try await app(clock: clock).test(.router) { client in
            for _ in 0..<3 {
                try await client.execute(uri: Self.path(), method: .get, headers: Self.auth) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: Self.path(), method: .get, headers: Self.auth) { response in
                #expect(response.status == .tooManyRequests)
                #expect(String(buffer: response.body) == Self.errorJSON("Too many requests", "NetworkException"))
            }
            // Another key has its own budget.
            for _ in 0..<3 {
                try await client.execute(uri: Self.path(), method: .get, headers: [.authorization: "token sim_api_key_3:sim_access_token_3"]) {
                    #expect($0.status == .ok)
                }
            }
            clock.advance(by: .milliseconds(1001))
            try await client.execute(uri: Self.path(), method: .get, headers: Self.auth) { #expect($0.status == .ok) }
        }
    }

    @Test func rateLimiterSlidesItsWindow() {
        let limiter = HistoricalRateLimiter(requestsPerSecond: 3)
        let t0 = ContinuousClock.now
        #expect(limiter.allow(apiKey: "a", now: t0))
        #expect(limiter.allow(apiKey: "a", now: t0 + .milliseconds(400)))
        #expect(limiter.allow(apiKey: "a", now: t0 + .milliseconds(800)))
        #expect(!limiter.allow(apiKey: "a", now: t0 + .milliseconds(999)))
        #expect(limiter.allow(apiKey: "b", now: t0 + .milliseconds(999)))
        #expect(limiter.allow(apiKey: "a", now: t0 + .milliseconds(1001)))
        #expect(!limiter.allow(apiKey: "a", now: t0 + .milliseconds(1300)))
    }

    @Test(arguments: [("minute", 60), ("3minute", 100), ("5minute", 100), ("10minute", 100), ("15minute", 200), ("30minute", 200), ("60minute", 400), ("day", 2000)])
    func rejectsRangesOverTheIntervalLimit(interval: String, days: Int) async throws {
        let clock = ManualClock()
        try await app(clock: clock).test(.router) { client in
            let to = Date(timeIntervalSince1970: TimeInterval(ISTClock.unixSecond(MarketFixture.date.calendarDate, hour: 9, minute: 15)))
            func text(_ date: Date) -> String { String(KiteHistoricalJSON.formatTimestamp(Int64(date.timeIntervalSince1970)).prefix(19)).replacingOccurrences(of: "T", with: " ") }
            try await client.execute(uri: Self.path(interval: interval, from: text(to.addingTimeInterval(-Double(days) * 86_400 - 60)), to: text(to)), method: .get, headers: Self.auth) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body) == Self.errorJSON("interval exceeds max limit: \(days) days", "InputException"))
            }
            clock.advance(by: .seconds(2))
            try await client.execute(uri: Self.path(interval: interval, from: text(to.addingTimeInterval(-Double(days) * 86_400)), to: text(to)), method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func rejectsBadInput() async throws {
        let clock = ManualClock()
        try await app(clock: clock).test(.router) { client in
            let cases: [(String, String)] = [
                (Self.path(token: 999_999_999), "invalid token"),
                (Self.path(token: 12), "invalid token"),
                (Self.path(interval: "2minute"), "invalid interval: 2minute"),
                (Self.path(from: "yesterday"), "invalid from date"),
                (Self.path(to: "2025-13-01"), "invalid to date"),
                (Self.path(from: "2025-11-20 10:00:00", to: "2025-11-20 09:00:00"), "from date should be before to date"),
            ]
            for (uri, message) in cases {
                clock.advance(by: .seconds(1))
                try await client.execute(uri: uri, method: .get, headers: Self.auth) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(String(buffer: response.body) == Self.errorJSON(message, "InputException"))
                }
            }
        }
    }

    @Test func injectedFaultsAnswer500GeneralException() async throws {
        try await app(faults: CountingFaults(failures: 1)).test(.router) { client in
            try await client.execute(uri: Self.path(), method: .get, headers: Self.auth) { response in
                #expect(response.status == .internalServerError)
                #expect(String(buffer: response.body).contains(#""error_type":"GeneralException""#))
            }
            try await client.execute(uri: Self.path(), method: .get, headers: Self.auth) { #expect($0.status == .ok) }
        }
    }

    @Test func historicalJSONRoundTripsTimestamps() throws {
        #expect(KiteHistoricalJSON.parseTimestamp("2025-11-20T09:15:00+0530") == 1_763_610_300)
        #expect(KiteHistoricalJSON.parseTimestamp("2025-11-20 09:15:00") == 1_763_610_300)
        #expect(KiteHistoricalJSON.parseTimestamp("2025-11-20T03:45:00Z") == 1_763_610_300)
        #expect(KiteHistoricalJSON.parseTimestamp("2025-11-20") == 1_763_577_000)
        #expect(KiteHistoricalJSON.formatTimestamp(1_763_610_300) == "2025-11-20T09:15:00+0530")
        let candles = [KiteCandle(timestamp: 1_763_610_300, open: 1704.5, high: 1705, low: 1699.25, close: 1702.8, volume: 2499, oi: 12)]
        #expect(KiteHistoricalJSON.encode(candles, includeOI: true) == #"{"status":"success","data":{"candles":[["2025-11-20T09:15:00+0530",1704.5,1705,1699.25,1702.8,2499,12]]}}"#)
        #expect(try KiteHistoricalJSON.parse(KiteHistoricalJSON.encode(candles, includeOI: true)) == candles)
        #expect(throws: KiteDataFormatError.self) { try KiteHistoricalJSON.parse(#"{"status":"error","message":"x","data":null,"error_type":"InputException"}"#) }
    }
}
