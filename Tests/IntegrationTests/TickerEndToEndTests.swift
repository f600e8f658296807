import BrokerWire
import Foundation
import Shared
import SharedRedis
import Testing
import TestSupport

/// TickerService as users run it: the real binary, the simulator over a real WebSocket, real Redis and PostgreSQL.
@Suite("TickerService end to end", .serialized)
struct TickerEndToEndTests {
    @Test("seed 003: POST /subscriptions → the broker sees the subscribe → ticks flow → the event is on the stream and the channel; DELETE removes it")
    func subscribeAndRemove() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            let redis = try platform.redisClient()
            let option = try #require(try await platform.niftyOptions(1).first)
            let token = option.instrumentToken

            let channel = try await redis.subscribe(to: [platform.channels.eventsChannel])
            var messages = channel.makeAsyncIterator()

            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(token), "requested_mode": "FULL"}"#)
            #expect(reply.status.code == 201, "\(String(decoding: reply.body, as: UTF8.self))")
            let body = try reply.json()
            #expect(body["tradingsymbol"] as? String == option.tradingsymbol)
            #expect(body["mode"] as? String == "FULL")

            try await waitUntil("the simulator streams the token in full mode") {
                try await platform.simulatorSubscriptions()[token] == "full"
            }
            try await waitUntil("ticks for the token are on the tick stream") {
                let entries = try await redis.send(["XREVRANGE", platform.channels.ticksStream, "+", "-", "COUNT", "200"])
                return (entries.array ?? []).contains { entry in
                    guard let fields = entry.array?.last?.array else { return false }
                    return fields.contains { $0.string == String(token) }
                }
            }

            let message = try #require(await messages.next())
            let published = try SubscriptionEventCodec.decode(message.string)
            #expect(published.kind == .created)
            #expect(published.instrumentToken == Int64(token))
            #expect(published.tradingsymbol == option.tradingsymbol)
            #expect(published.metadata.requestedMode == .full)
            #expect(published.metadata.accountID == "primary")
            #expect(published.sequence != nil)
            let stream = try await platform.streamEvents(redis)
            #expect(stream.map(\.eventID) == [published.eventID])

            let removal = try await platform.delete(.ticker, "/subscriptions/\(token)")
            #expect(removal.status.code == 200, "\(String(decoding: removal.body, as: UTF8.self))")
            try await waitUntil("the removal event is on the stream") {
                try await platform.streamEvents(redis).map(\.kind) == [.created, .removed]
            }
            try await waitUntil("the simulator no longer streams the token") {
                try await platform.simulatorSubscriptions()[token] == nil
            }
            await channel.close()
        }
    }

    @Test("after a restart, and after the broker drops or stalls the connection, every instrument is back in its mode")
    func recovery() async throws {
        try await Platform.with([.simulator, .ticker], environment: [.ticker: ["FEED_STALE_SECONDS": "2"]]) { platform in
            let options = try await platform.niftyOptions(3)
            let modes = ["LTP", "QUOTE", "FULL"]
            for (option, mode) in zip(options, modes) {
                let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(option.instrumentToken), "requested_mode": "\#(mode)"}"#)
                #expect(reply.status.code == 201)
            }
            let expected = Dictionary(uniqueKeysWithValues: zip(options.map(\.instrumentToken), modes.map { $0.lowercased() }))
            try await waitUntil("the simulator streams all three in their modes") { try await platform.simulatorSubscriptions() == expected }

            await platform.stop(.ticker)
            try await waitUntil("the simulator sees the session end") { try await platform.simulatorSubscriptions().isEmpty }
            try await platform.start(.ticker)
            try await waitUntil("a restarted ticker resubscribes everything in its mode") { try await platform.simulatorSubscriptions() == expected }

            _ = try await platform.post(.simulator, "/admin/faults/drop", json: #"{"all":true}"#)
            try await waitUntil("after a dropped connection everything is back in its mode") { try await platform.simulatorSubscriptions() == expected }

            let stalled = try await platform.post(.simulator, "/admin/faults/stall", json: #"{"all":true}"#)
            #expect(stalled.status.code == 200)
            let stalledIDs = Set(try stalled.json()["connection_ids"] as? [Int] ?? [])
            try await waitUntil("the watchdog replaces the stalled connection and everything is back in its mode") {
                let connections = try await platform.get(.simulator, "/admin/connections").json()["connections"] as? [[String: Any]] ?? []
                let fresh = connections.compactMap { $0["id"] as? Int }.filter { !stalledIDs.contains($0) }
                guard !fresh.isEmpty else { return false }
                return try await platform.simulatorSubscriptions() == expected
            }
            let health = try await platform.get(.ticker, "/health").json()
            #expect((health["ticker"] as? [String: Any])?["active_subscriptions"] as? Int == 3)
        }
    }

    @Test("a rebalance moves instruments to the emptied connection, and GET /subscriptions shows each on its new connection")
    func rebalanceRecordsPlacement() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            let options = try await platform.niftyOptions(30).map(\.instrumentToken)
            let list = options.map { #"{"instrument_token": \#($0), "requested_mode": "QUOTE"}"# }.joined(separator: ",")
            let created = try await platform.post(.ticker, "/subscriptions", json: #"{"instruments": [\#(list)]}"#)
            #expect(created.statusCode == 201, "\(created.text)")
            func placements() async throws -> [Int: String] {
                let rows = try await platform.get(.ticker, "/subscriptions").json()["subscriptions"] as? [[String: Any]] ?? []
                return Dictionary(
                    rows.compactMap { row -> (Int, String)? in
                        guard let token = row["instrument_token"] as? Int, let account = row["account_id"] as? String,
                              let connection = row["connection_id"] as? Int else { return nil }
                        return (token, "\(account)#\(connection)")
                    },
                    uniquingKeysWith: { first, _ in first }
                )
            }
            // Empty one connection: the other two keep their instruments and the spread is a third of them.
            let before = try await placements()
            let emptied = try #require(Set(before.values).sorted().first)
            for (token, placement) in before where placement == emptied {
                #expect(try await platform.delete(.ticker, "/subscriptions/\(token)?all=true").statusCode == 200)
            }
            let kept = Set(before.filter { $0.value != emptied }.keys.map { UInt32($0) })
            try await waitUntil("the simulator streams only what is kept") { Set(try await platform.simulatorSubscriptions().keys) == kept }

            let rebalance = try await platform.post(.ticker, "/admin/rebalance", json: "{}")
            #expect(rebalance.statusCode == 200, "\(rebalance.text)")
            let moves = try rebalance.json()["moves"] as? [[String: Any]] ?? []
            #expect(!moves.isEmpty, "nothing moved: \(rebalance.text)")
            let after = try await placements()
            for move in moves {
                let token = move["instrument_token"] as? Int ?? -1
                let to = move["to"] as? [String: Any] ?? [:]
                #expect(after[token] == "\(to["account_id"] as? String ?? "?")#\(to["connection_id"] as? Int ?? -1)", "instrument \(token) after the move")
            }
            #expect(after.values.contains(emptied), "the emptied connection carries instruments again: \(after)")
            try await waitUntil("the simulator streams every kept instrument once") { Set(try await platform.simulatorSubscriptions().keys) == kept }
        }
    }

    @Test("Redis down while subscriptions change: every event arrives, in order, after it returns")
    func redisOutage() async throws {
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }
        try await Platform.with([.simulator, .ticker], redis: redisServer) { platform in
            let options = try await platform.niftyOptions(3)

            redisServer.kill()
            for option in options {
                let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(option.instrumentToken), "requested_mode": "QUOTE"}"#)
                #expect(reply.status.code == 201, "\(String(decoding: reply.body, as: UTF8.self))")
            }
            try await redisServer.restart()
            let redis = try platform.redisClient()
            try await waitUntil("all three events are on the stream") { try await platform.streamEvents(redis).count == 3 }
            let events = try await platform.streamEvents(redis)
            #expect(events.map(\.instrumentToken) == options.map { Int64($0.instrumentToken) })
            #expect(events.allSatisfy { $0.kind == .created })
            let sequences = events.compactMap(\.sequence)
            #expect(sequences == sequences.sorted())
        }
    }

    @Test("the service killed between a change and its publication: the event still arrives")
    func crashBeforePublication() async throws {
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }
        try await Platform.with([.simulator, .ticker], redis: redisServer) { platform in
            let option = try #require(try await platform.niftyOptions(1).first)

            // With Redis away the change commits (row + outbox event) but cannot be published; then the process dies.
            redisServer.kill()
            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(option.instrumentToken), "requested_mode": "FULL"}"#)
            #expect(reply.status.code == 201)
            await platform.stop(.ticker, crash: true)
            try await redisServer.restart()
            try await platform.start(.ticker)

            let redis = try platform.redisClient()
            try await waitUntil("the event written before the crash is published") { try await platform.streamEvents(redis).count == 1 }
            let event = try #require(try await platform.streamEvents(redis).first)
            #expect(event.kind == .created)
            #expect(event.instrumentToken == Int64(option.instrumentToken))
        }
    }
}
