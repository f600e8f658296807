import Foundation
import Logging
import Synchronization
import Testing
import TestSupport

/// `GET /api/v2/stream` through the real processes: live quotes reach a terminal's WebSocket client as JSON, a
/// watchlist subscribes its instruments, bad messages get an error and change nothing, the client limit closes the
/// next one with 1013, and streaming needs the API key when it is on.
@Suite("Quote stream end to end", .serialized)
struct QuoteStreamTests {
    @Test("subscribe, watchlist and unsubscribe over a real WebSocket; errors; STREAM_MAX_CLIENTS; the API key; stats")
    func stream() async throws {
        let environment = ["STREAM_MAX_CLIENTS": "2", "STREAM_PING_INTERVAL": "1", "API_KEY_ENABLED": "true", "API_KEY": "stream-test-key"]
        try await Platform.with(environment: [.backend: environment]) { platform in
            let equities = try await platform.instruments(exchange: "NSE").filter { $0.instrumentType == "EQ" }.prefix(3).map { Int64($0.instrumentToken) }
            try #require(equities.count == 3)
            for token in equities.prefix(2) {
                let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(token), "requested_mode": "FULL"}"#)
                #expect(reply.statusCode == 201 || reply.statusCode == 200, "\(reply.text)")
            }
            let base = platform.url(.backend).replacingOccurrences(of: "http://", with: "ws://") + "/api/v2/stream"

            // A plain GET is told to upgrade.
            let plain = try await platform.get(.backend, "/api/v2/stream")
            #expect(plain.statusCode == 426 && plain.text.contains("upgrade_required"), "\(plain.statusCode) \(plain.text)")
            // Without the key the stream closes at once with 1008 (policy violation).
            let anonymous = StreamClient(url: base)
            let refusedCode = await anonymous.ending
            #expect(refusedCode?.contains("policyViolation") == true, "\(refusedCode ?? "nil")")

            let client = StreamClient(url: base + "?api_key=stream-test-key")
            client.send(#"{"action":"subscribe","tokens":[\#(equities[0]),\#(equities[1])]}"#)
            try await waitUntil("subscribed, then live quotes of both", timeout: .seconds(30)) {
                client.messages(type: "subscribed").first?["total"] as? Int == 2 && client.quotedTokens.isSuperset(of: Set(equities.prefix(2)))
            }
            let quote = try #require(client.messages(type: "quotes").last?["quotes"] as? [[String: Any]]).first!
            #expect(quote["ltp"] is NSNumber && quote.keys.contains("bid") && quote.keys.contains("oi") && quote["broker"] as? String == "kite", "\(quote)")

            // A bad message is answered with an error; the connection stays usable.
            client.send("not json")
            client.send(#"{"action":"subscribe","tokens":[-5]}"#)
            client.send(#"{"action":"dance"}"#)
            try await waitUntil("three errors") { client.messages(type: "error").count == 3 }
            #expect(client.messages(type: "error").map { $0["code"] as? String } == ["invalid_message", "invalid_token", "unknown_action"])

            // A watchlist subscribes what it holds (once the registry has loaded the instrument table).
            try await waitUntil("the registry is loaded") { try await platform.get(.backend, "/api/v2/instruments/search?q=INFY").statusCode == 200 }
            let add = try await platform.post(
                .backend, "/api/v2/watchlist/add", json: #"{"user_id":"trader1","instrument_token":\#(equities[2])}"#, headers: ["X-API-Key": "stream-test-key"]
            )
            #expect(add.statusCode == 201, "\(add.text)")
            client.send(#"{"action":"watchlist","user_id":"trader1"}"#)
            try await waitUntil("the watchlist's instrument streams", timeout: .seconds(30)) { client.quotedTokens.contains(equities[2]) }
            client.send(#"{"action":"watchlist","user_id":"nobody"}"#)
            try await waitUntil("an unknown user is an error") { client.messages(type: "error").last?["code"] as? String == "unknown_user" }

            // Unsubscribe: no more quotes of that instrument once the reply is in.
            client.send(#"{"action":"unsubscribe","tokens":[\#(equities[0])]}"#)
            try await waitUntil("unsubscribed") { client.messages(type: "unsubscribed").first?["total"] as? Int == 2 }
            let after = client.messages.count
            try await Task.sleep(for: .seconds(2))
            let later = client.messages.dropFirst(after).filter { $0["type"] as? String == "quotes" }
            let laterTokens = Set(later.flatMap { ($0["quotes"] as? [[String: Any]]) ?? [] }.compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
            #expect(!laterTokens.contains(equities[0]) && laterTokens.contains(equities[1]), "\(laterTokens)")

            // Two clients at most: the third is closed with 1013 (try again later); the first keeps streaming.
            let second = StreamClient(url: base + "?api_key=stream-test-key")
            try await waitUntil("two clients") {
                let stats = try await platform.get(.backend, "/api/v2/ws/stats").json()
                return stats["clients"] as? Int == 2
            }
            let third = StreamClient(url: base + "?api_key=stream-test-key")
            let thirdCode = await third.ending
            #expect(thirdCode?.contains("1013") == true, "\(thirdCode ?? "nil")")
            let stats = try await platform.get(.backend, "/api/v2/ws/stats").json()
            #expect(stats["clients_refused"] as? Int == 1 && (stats["messages_sent"] as? Int ?? 0) > 3, "\(stats)")
            second.close()
            _ = await second.ending

            // SIGTERM with a terminal still connected: the service closes the stream and exits within 5 s.
            let stop = await platform.terminate(.backend, within: .seconds(5))
            #expect(stop.exited && stop.status == 0, "\(stop)")
            client.close()
            _ = await client.ending
        }
    }

    @Test("a stalled client (never reads) does not slow another: the other's quotes keep coming every tick; the stalled one's queue conflates")
    func stalledClientDoesNotSlowAnother() async throws {
        try await Platform.with(arguments: [.simulator: ["--tick-interval-ms", "200"]]) { platform in
            // 300 equities and futures streaming in full mode: about 1,500 quotes a second, a few hundred KB/s of JSON per
            // client.
            let equities = try await platform.instruments(exchange: "NSE").filter { $0.instrumentType == "EQ" }.map { Int64($0.instrumentToken) }
            let futures = try await platform.instruments(exchange: "NFO").filter { $0.instrumentType == "FUT" }.map { Int64($0.instrumentToken) }
            let streamed = Array((equities + futures).prefix(300))
            try #require(streamed.count == 300)
            let list = streamed.map(String.init).joined(separator: ",")
            let items = streamed.map { #"{"instrument_token": \#($0), "requested_mode": "FULL"}"# }.joined(separator: ",")
            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instruments": [\#(items)]}"#)
            #expect(reply.statusCode == 201 || reply.statusCode == 200, "\(reply.text.prefix(300))")
            let url = platform.url(.backend).replacingOccurrences(of: "http://", with: "ws://") + "/api/v2/stream"
            let subscribe = #"{"action":"subscribe","tokens":[\#(list)]}"#

            let stalled = try ChildProcess(
                executable: Command.venv + "/bin/python", arguments: ["-c", StreamClient.stalledScript, url, subscribe],
                outputPath: platform.logDirectory + "/stalled-client.log"
            )
            defer { stalled.stopNow(grace: .seconds(1)) }
            let good = StreamClient(url: url)
            good.send(subscribe)
            try await waitUntil("both clients stream", timeout: .seconds(60)) {
                let stats = try await platform.get(.backend, "/api/v2/ws/stats").json()
                return stats["clients"] as? Int == 2 && good.quotedTokens.count == 300
            }
            // Watch the good client for 20 s while the stalled one's socket fills: it hears from every instrument
            // every couple of seconds, and its quotes are fresh.
            let start = good.messages.count
            var worstAge = 0.0
            for _ in 0..<20 {
                try await Task.sleep(for: .seconds(1))
                let recent = good.messages.dropFirst(start).suffix(20).filter { $0["type"] as? String == "quotes" }
                let stamps = recent.flatMap { ($0["quotes"] as? [[String: Any]]) ?? [] }.compactMap { $0["timestamp"] as? String }
                    .compactMap { try? Date($0, strategy: .iso8601) }
                if let newest = stamps.max() { worstAge = max(worstAge, Date().timeIntervalSince(newest)) } else { worstAge = .infinity }
            }
            let heard = Set(good.messages.dropFirst(start).filter { $0["type"] as? String == "quotes" }
                .flatMap { ($0["quotes"] as? [[String: Any]]) ?? [] }.compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
            #expect(heard.count == 300, "the good client heard from \(heard.count) of 300 instruments in 20 s")
            #expect(worstAge < 3, "the good client's newest quote was \(worstAge) s old at worst")
            // The stalled client's queue kept only the latest quote per instrument: conflated by the thousand.
            let stats = try await platform.get(.backend, "/api/v2/ws/stats").json()
            #expect((stats["updates_conflated"] as? Int ?? 0) > 5_000, "\(stats)")
            print("quote stream: beside a stalled client the other heard all \(heard.count) instruments; newest quote at worst \(String(format: "%.2f", worstAge)) s old; \(stats["updates_conflated"] ?? 0) updates conflated")
            good.close()
            _ = await good.ending
        }
    }
}
