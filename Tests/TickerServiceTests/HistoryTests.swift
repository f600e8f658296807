import AsyncHTTPClient
import BrokerWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@testable import TickerService

@Suite("History: /history proxies the broker's candles")
struct HistoryTests {
    static func app(_ simulator: SimulatorProcess, apiKey: String? = nil) -> some ApplicationProtocol {
        var configuration = FeedConfiguration(accounts: [testAccount(simulator)])
        configuration.historyRequestsPerSecond = 3
        var client = HistoricalClient(configuration: configuration, logger: feedTestLogger("test.history"))
        client.failureBaseDelay = .milliseconds(20)
        let router = Router()
        router.addRoutes(HistoryController(client: client, apiKey: apiKey).endpoints)
        return Application(router: router)
    }

    static func istDate(daysAgo: Int) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "Asia/Kolkata")
        return formatter.string(from: Date().addingTimeInterval(-Double(daysAgo) * 86_400))
    }

    /// The latest weekday (IST) at least `daysAgo` days back: a day the simulator's exchange session has candles on.
    static func istWeekday(atLeastDaysAgo daysAgo: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Kolkata")!
        var back = daysAgo
        while calendar.isDateInWeekend(Date().addingTimeInterval(-Double(back) * 86_400)) { back += 1 }
        return istDate(daysAgo: back)
    }

    @Test("a range above the interval's maximum (Kite's per-request limit) gets 400 naming the limit; the maximum itself is served")
    func rangeLimits() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let token = try #require(try await simulator.equityTokens(1).first)
        try await Self.app(simulator).test(.router) { client in
            for interval in KiteCandleInterval.allCases {
                // A bare `to` date covers its whole day: from (limit + 1) days back to today spans more than the limit.
                let from = Self.istDate(daysAgo: interval.maxRangeDays + 1), to = Self.istDate(daysAgo: 0)
                try await client.execute(uri: "/history/\(token)?from=\(from)&to=\(to)&interval=\(interval.rawValue)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(interval.rawValue)")
                    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect(object?["error_type"] as? String == "InputException")
                    let message = object?["message"] as? String ?? ""
                    #expect(message.contains("at most \(interval.maxRangeDays) days"), "\(interval.rawValue): \(message)")
                }
            }
            // 18 months of minutes, the issue's request: refused before any broker call.
            let old = Self.istDate(daysAgo: 548), today = Self.istDate(daysAgo: 0)
            try await client.execute(uri: "/history/\(token)?from=\(old)&to=\(today)&interval=minute", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            // Exactly at the limit: 59 whole days back plus today is under 60 × 24 h.
            let from = Self.istDate(daysAgo: 59), to = Self.istDate(daysAgo: 0)
            try await client.execute(uri: "/history/\(token)?from=\(from)&to=\(to)&interval=minute", method: .get) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body).prefix(300))")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let candles = try #require((object["data"] as? [String: Any])?["candles"] as? [[Any]])
                #expect(candles.count > 1000)
            }
        }
    }

    @Test("with API_KEY_ENABLED /history needs X-API-Key (401 TokenException without it)")
    func requiresKey() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let token = try #require(try await simulator.equityTokens(1).first)
        let day = Self.istDate(daysAgo: 3)
        let uri = "/history/\(token)?from=\(day)&to=\(day)&interval=5minute"
        try await Self.app(simulator, apiKey: "history_key").test(.router) { client in
            for headers: HTTPFields in [[:], [HTTPField.Name("X-API-Key")!: "wrong"]] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect(object?["status"] as? String == "error")
                    #expect(object?["error_type"] as? String == "TokenException")
                }
            }
            try await client.execute(uri: uri, method: .get, headers: [HTTPField.Name("X-API-Key")!: "history_key"]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("the answer is streamed (chunked, no Content-Length) and is exactly the broker's candles")
    func streamsTheBrokersCandles() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let token = try #require(try await simulator.equityTokens(1).first)
        let from = Self.istDate(daysAgo: 40), to = Self.istDate(daysAgo: 1)  // not today: its last candle is still changing
        // The broker's own answer for the same range.
        var direct = HTTPClientRequest(
            url: "\(simulator.httpURL)/instruments/historical/\(token)/minute?from=\(from)%2000:00:00&to=\(to)%2023:59:59&oi=1"
        )
        direct.headers.add(name: "X-Kite-Version", value: "3")
        direct.headers.add(name: "Authorization", value: "token sim_api_key:sim_access_token")
        let brokerResponse = try await HTTPClient.shared.execute(direct, timeout: .seconds(30))
        #expect(brokerResponse.status == .ok)
        let brokerBody = String(buffer: try await brokerResponse.body.collect(upTo: 64 << 20))
        let expected = try KiteHistoricalJSON.parse(brokerBody)
        #expect(expected.count > 1000)

        try await Self.app(simulator).test(.live) { client in
            try await client.execute(uri: "/history/\(token)?from=\(from)&to=\(to)&interval=minute&oi=1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == nil, "a streamed answer has no Content-Length")
                #expect(response.headers[.transferEncoding] == "chunked")
                let body = String(buffer: response.body)
                #expect((try? KiteHistoricalJSON.parse(body)) == expected)
                #expect(body == KiteHistoricalJSON.encode(expected, includeOI: true))
            }
        }
    }

    @Test("the stream parser reads rows split anywhere across chunks and refuses a truncated answer")
    func streamParser() throws {
        let candles = (0..<50).map { KiteCandle(timestamp: 1_767_000_000 + Int64($0) * 60, open: 100.5, high: 101, low: 99.25, close: 100, volume: Int64($0), oi: 7) }
        let text = Array(KiteHistoricalJSON.encode(candles, includeOI: true).utf8)
        for size in [1, 7, 64, 4096] {
            var parser = KiteCandleStreamParser()
            var seen: [KiteCandle] = []
            var start = 0
            while start < text.count {
                let end = min(text.count, start + size)
                seen += try parser.feed(ByteBuffer(bytes: text[start..<end]))
                start = end
            }
            try parser.finish()
            #expect(seen == candles, "chunk size \(size)")
        }
        var truncated = KiteCandleStreamParser()
        _ = try truncated.feed(ByteBuffer(bytes: text.prefix(text.count / 2)))
        #expect(throws: HistoryError.self) { try truncated.finish() }
        var garbage = KiteCandleStreamParser()
        #expect(throws: HistoryError.self) { _ = try garbage.feed(ByteBuffer(string: #"{"status":"success","data":{"candles":{"#)) }
    }

    @Test("interactive requests take at most 2 of every 3 slots: backfill gets one within a window however many are queued")
    func backfillKeepsItsShare() async {
        let window = Duration.seconds(1)
        let pacer = HistoryPacer(requestsPerSecond: 3, window: window)
        let start = ContinuousClock.now
        var interactive: [ContinuousClock.Instant] = []
        for _ in 0..<12 { interactive.append(await pacer.reserve(accounts: ["a"], purpose: .interactive).at) }
        let backfill = await pacer.reserve(accounts: ["a"], purpose: .backfill).at
        #expect(backfill - start < window, "backfill waited \(backfill - start) behind 12 interactive requests")
        let all = (interactive + [backfill]).sorted()
        for (index, begin) in all.enumerated() {
            #expect(all[index...].count { $0 < begin + window } <= 3, "more than 3 starts in a window")
            #expect(interactive.count { $0 >= begin && $0 < begin + window } <= 2, "more than 2 interactive starts in a window")
        }
        // Backfill alone may use the whole rate.
        let alone = HistoryPacer(requestsPerSecond: 3, window: window)
        var slots: [ContinuousClock.Instant] = []
        for _ in 0..<3 { slots.append(await alone.reserve(accounts: ["a"], purpose: .backfill).at) }
        #expect(slots.allSatisfy { $0 - start < .milliseconds(500) })
    }

    @Test("bad parameters get 400 with a JSON message")
    func validation() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        try await Self.app(simulator).test(.router) { client in
            for (uri, fragment) in [
                ("/history/256265?from=2025-13-01&to=2025-01-02", "from"),
                ("/history/256265?from=2025-01-05&to=2025-01-02", "after"),
                ("/history/256265?from=2025-01-01&to=2025-01-02&interval=2minute", "interval"),
                ("/history/abc?from=2025-01-01&to=2025-01-02", "token"),
                ("/history/256265?to=2025-01-02", "from is required"),
                ("/history/256265?from=2025-01-01&to=2025-03-03", "at most 60 days"),
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect(object?["status"] as? String == "error")
                    #expect((object?["message"] as? String)?.contains(fragment) == true, "\(uri): \(object?["message"] ?? "")")
                }
            }
        }
    }

    @Test("upstream 5xx is retried, and after repeated failures the client gets 502")
    func upstreamFailures() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let token = try #require(try await simulator.equityTokens(1).first)
        let day = Self.istDate(daysAgo: 3)
        try await Self.app(simulator).test(.router) { client in
            try await simulator.admin("faults/historical", #"{"count":1}"#)
            try await client.execute(uri: "/history/\(token)?from=\(day)&to=\(day)&interval=5minute", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await simulator.admin("faults/historical", #"{"count":10}"#)
            try await client.execute(uri: "/history/\(token)?from=\(day)&to=\(day)&interval=5minute", method: .get) { response in
                #expect(response.status == .badGateway)
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(object?["status"] as? String == "error")
                #expect(object?["error_type"] as? String == "NetworkException")
            }
        }
    }
}
