import BrokerWire
import Foundation
import Testing
import TestSupport

/// A Dhan-only deployment as real processes: TickerService with one `"broker":"dhan"` account on the simulator answers
/// `/history` from Dhan's charts API, and BackendService's backfill stores those candles.
@Suite("Dhan history end to end", .serialized)
struct DhanHistoryEndToEndTests {
    /// `by_broker` of the simulator's `GET /admin/historical`.
    static func servedByBroker(_ platform: Platform) async throws -> [String: Int] {
        try await platform.get(.simulator, "/admin/historical").json()["by_broker"] as? [String: Int] ?? [:]
    }

    @Test("a Dhan-only TickerService answers /history with the simulator's candles and BackendService backfill stores them")
    func dhanOnlyBackfill() async throws {
        let accountsFile = FileManager.default.temporaryDirectory.appendingPathComponent("dhan-accounts-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: accountsFile) }
        try await Platform.with([.simulator], environment: [.ticker: ["ACCOUNTS_FILE": accountsFile.path]]) { platform in
            let port = platform.port(.simulator)
            let accounts = #"[{"id":"dhan-main","broker":"dhan","client_id":"sim_api_key","access_token":"sim_access_token","#
                + #""ws_url":"ws://127.0.0.1:\#(port)/dhan","rest_url":"http://127.0.0.1:\#(port)"}]"#
            try Data(accounts.utf8).write(to: accountsFile)
            try await platform.start(.ticker)
            try await platform.start(.backend)

            let equity = try #require(try await platform.instruments(exchange: "NSE").first { $0.instrumentType == "EQ" })
            let token = equity.instrumentToken
            let now = Date()
            let from = now.addingTimeInterval(-3600), to = now.addingTimeInterval(-1800)
            let kiteAnswer = try await platform.get(
                .simulator,
                "/instruments/historical/\(token)/minute?from=\(BackendEndToEndTests.kiteTime(from))&to=\(BackendEndToEndTests.kiteTime(to))&api_key=sim_api_key&access_token=sim_access_token"
            )
            let expected = try KiteHistoricalJSON.parse(kiteAnswer.text)
            #expect(expected.count >= 29)
            let history = try await platform.get(.ticker, "/history/\(token)?from=\(BackendEndToEndTests.kiteTime(from))&to=\(BackendEndToEndTests.kiteTime(to))&interval=minute")
            #expect(history.statusCode == 200, "\(history.text.prefix(300))")
            #expect(history.text == KiteHistoricalJSON.encode(expected, includeOI: false), "TickerService's Dhan candles are not the simulator's")
            #expect(try await Self.servedByBroker(platform) == ["kite": 1, "dhan": 1], "the ticker must ask Dhan, not Kite")

            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(token), "requested_mode": "FULL"}"#)
            #expect(reply.status.code == 201, "\(reply.text)")
            try await waitUntil("the backfilled history of the last two hours is stored", timeout: .seconds(90)) {
                try await BackendEndToEndTests.storedBars(platform, token: token) >= 100
            }
            let rows = try await platform.postgres.query(
                "SELECT open, high, low, close, volume FROM bars_1m WHERE instrument_token = $1 AND bucket = to_timestamp($2::double precision)", [Int64(token), expected[0].timestamp]
            )
            let stored = try #require(rows.first, "the bar of \(KiteHistoricalJSON.formatTimestamp(expected[0].timestamp)) was not backfilled")
            #expect(try stored.decode(Double.self, "open") == expected[0].open)
            #expect(try stored.decode(Double.self, "high") == expected[0].high)
            #expect(try stored.decode(Double.self, "low") == expected[0].low)
            #expect(try stored.decode(Double.self, "close") == expected[0].close)
            #expect(try stored.decode(Int64.self, "volume") == expected[0].volume)
            let served = try await Self.servedByBroker(platform)
            #expect(served["kite"] == 1 && (served["dhan"] ?? 0) >= 2, "backfill went through Dhan: \(served)")
        }
    }
}
