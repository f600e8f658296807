import BrokerWire
import Foundation
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

/// Dhan beside Kite through the real processes: the simulator (both feeds), TickerService with one Kite and one Dhan
/// account, BackendService, Redis and PostgreSQL.
@Suite("Dhan end to end", .serialized)
struct DhanEndToEndTests {
    @Test("an instrument pinned to the Dhan account ticks into the stream with broker dhan and becomes 1-minute bars equal to the broker's candles")
    func pinnedToDhanBecomesBars() async throws {
        let accounts = FileManager.default.temporaryDirectory.appendingPathComponent("dhan-e2e-\(UUID().uuidString).json").path
        try #"""
        [{"id":"kite","broker":"kite","api_key":"sim_api_key","access_token":"sim_access_token"},
         {"id":"dhan","broker":"dhan","client_id":"sim_api_key_2","access_token":"sim_access_token_2"}]
        """#.write(toFile: accounts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accounts) }
        let environment: [Platform.Component: [String: String]] = [
            .ticker: ["ACCOUNTS_FILE": accounts],
            .backend: ["RECONCILE_ENABLED": "false"],
        ]
        try await Platform.with([.simulator, .ticker, .backend], environment: environment) { platform in
            let equities = try await platform.instruments(exchange: "NSE").filter { $0.instrumentType == "EQ" && $0.segment == "NSE" }
            try #require(equities.count >= 4)
            let onDhan = equities.prefix(3).map { Int64($0.instrumentToken) }
            let onKite = Int64(equities[3].instrumentToken)

            // Subscribe early in a minute, so the next minute is whole.
            let second = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 60)
            if second > 40 { try await Task.sleep(for: .seconds(61 - second)) }
            let pinned = onDhan.map { #"{"instrument_token": \#($0), "requested_mode": "FULL"}"# }.joined(separator: ",")
            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instruments": [\#(pinned)], "account_id": "dhan"}"#)
            #expect(reply.statusCode == 201, "\(reply.text)")
            let placed = try #require(try reply.json()["subscriptions"] as? [[String: Any]])
            #expect(placed.compactMap { $0["account_id"] as? String } == ["dhan", "dhan", "dhan"])
            let kiteReply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(onKite), "requested_mode": "QUOTE", "account_id": "kite"}"#)
            #expect(kiteReply.statusCode == 201, "\(kiteReply.text)")
            let subscribedMinute = Int64(Date().timeIntervalSince1970) / 60 * 60

            // A pin to an account that does not exist, or that cannot address the instrument, is refused.
            let unknown = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(equities[5].instrumentToken), "account_id": "nope"}"#)
            #expect(unknown.statusCode == 404 && unknown.text.contains("unknown_account"), "\(unknown.text)")
            let niftyIT = KiteSegment.token(exchangeToken: 1015, segment: .indices)
            let unmappable = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(niftyIT), "account_id": "dhan"}"#)
            #expect(unmappable.statusCode == 409 && unmappable.text.contains("account_unavailable"), "\(unmappable.text)")

            // /health shows each connection's broker, both streaming.
            try await waitUntil("a Kite and a Dhan connection stream") {
                let health = try await platform.get(.ticker, "/health").json()
                let connections = (health["ticker"] as? [String: Any])?["connections"] as? [[String: Any]] ?? []
                let streaming = connections.filter { $0["state"] as? String == "streaming" }.compactMap { $0["broker"] as? String }
                return Set(streaming) == ["kite", "dhan"]
            }
            // Ticks of the pinned instruments are Dhan's.
            let redis = try platform.redisClient()
            try await waitUntil("ticks of the pinned instruments reach the stream from Dhan") {
                let reply = try await redis.send(["XREVRANGE", platform.channels.ticksStream, "+", "-", "COUNT", "200"])
                var brokers: [Int64: String] = [:]
                for entry in reply.array ?? [] {
                    guard let values = entry.array?.last?.array else { continue }
                    var fields: [String: String] = [:]
                    var index = 0
                    while index + 1 < values.count {
                        fields[values[index].string ?? ""] = values[index + 1].string ?? ""
                        index += 2
                    }
                    if let token = fields["tk"].flatMap(Int64.init) { brokers[token] = fields["br"] }
                }
                return onDhan.allSatisfy { brokers[$0] == "dhan" } && brokers[onKite] == "kite"
            }

            // The first whole minute after the subscription, built from Dhan's ticks, equals the broker's candle.
            let minute = subscribedMinute + 60
            try await waitUntil("the first whole minute closes and is stored", timeout: .seconds(150), every: .seconds(1)) {
                guard Date().timeIntervalSince1970 > Double(minute + 60 + 3) else { return false }
                let rows = try await platform.postgres.query(
                    "SELECT count(*)::bigint AS n FROM bars_1m WHERE instrument_token = ANY($1::bigint[]) AND bucket = $2",
                    [PostgresArrayLiteral.bigints(onDhan), Date(timeIntervalSince1970: TimeInterval(minute))]
                )
                return try rows.first?.decode(Int.self, "n") == onDhan.count
            }
            for token in onDhan {
                let candles = try await MinuteRepairEndToEndTests.candles(platform, token: token, from: minute, to: minute)
                let candle = try #require(candles.first { $0.timestamp == minute })
                let row = try #require(try await platform.postgres.query(
                    "SELECT open, high, low, close, volume, source FROM bars_1m WHERE instrument_token = $1 AND bucket = $2",
                    [token, Date(timeIntervalSince1970: TimeInterval(minute))]
                ).first)
                let stored = [try row.decode(Double.self, "open"), try row.decode(Double.self, "high"), try row.decode(Double.self, "low"), try row.decode(Double.self, "close")]
                let broker = [candle.open, candle.high, candle.low, candle.close]
                #expect(try row.decode(String.self, "source") == "ticks", "token \(token): the whole minute should come from Dhan's ticks")
                #expect(zip(stored, broker).allSatisfy { abs($0 - $1) < 0.005 }, "token \(token): \(stored) vs \(broker)")
                #expect(try row.decode(Int64.self, "volume") == candle.volume, "token \(token) volume")
            }
            await redis.close()
        }
    }
}
