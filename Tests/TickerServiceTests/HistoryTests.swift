import BrokerWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@testable import TickerService

@Suite("History: /history proxies the broker's candles")
struct HistoryTests {
    static func app(_ simulator: SimulatorProcess) -> some ApplicationProtocol {
        var configuration = FeedConfiguration(accounts: [testAccount(simulator)])
        configuration.historyRequestsPerSecond = 3
        var client = HistoricalClient(configuration: configuration, logger: feedTestLogger("test.history"))
        client.failureBaseDelay = .milliseconds(20)
        let router = Router()
        router.addRoutes(HistoryController(client: client).endpoints)
        return Application(router: router)
    }

    static func istDate(daysAgo: Int) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "Asia/Kolkata")
        return formatter.string(from: Date().addingTimeInterval(-Double(daysAgo) * 86_400))
    }

    @Test("a 100-day minute range is split into ≤60-day requests, merged in order, and paced (no 429 reaches the client)")
    func splitsAndPaces() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let token = try #require(try await simulator.equityTokens(1).first)
        let from = Self.istDate(daysAgo: 100), to = Self.istDate(daysAgo: 0)
        #expect(HistoricalClient.chunks(from: 0, to: 100 * 86_400 - 1, interval: .minute).map { $0.upperBound - $0.lowerBound + 1 } == [60 * 86_400, 40 * 86_400])
        try await Self.app(simulator).test(.router) { client in
            // Four concurrent requests × 2 broker calls each = 8 calls for one key allowed 3/s.
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await client.execute(uri: "/history/\(token)?from=\(from)&to=\(to)&interval=minute", method: .get) { response in
                            (Int(response.status.code), String(buffer: response.body))
                        }
                    }
                }
                for try await (status, body) in group {
                    #expect(status == 200, "\(body.prefix(300))")
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                    #expect(object["status"] as? String == "success")
                    let candles = try #require((object["data"] as? [String: Any])?["candles"] as? [[Any]])
                    let times = candles.compactMap { ($0.first as? String).flatMap(KiteHistoricalJSON.parseTimestamp) }
                    #expect(times.count == candles.count)
                    #expect(times == times.sorted() && Set(times).count == times.count, "candles must be ordered and unique")
                    let first = try #require(times.first), last = try #require(times.last)
                    #expect(last - first > 60 * 86_400, "the answer must span both broker requests")
                }
            }
        }
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
