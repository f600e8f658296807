import BrokerWire
import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import BrokerSimulator

@Suite("Kite ticker WebSocket")
struct TickerTests {
    @Test("bad or missing credentials are refused at the upgrade with 403")
    func badCredentials() async throws {
        try await withSimulator { (sim: SimulatorFixture) async throws -> Void in
            #expect(try await sim.upgradeStatus(accessToken: "wrong_token") == .forbidden)
            #expect(try await sim.upgradeStatus(apiKey: "unknown_key") == .forbidden)
            #expect(try await sim.upgradeStatus(apiKey: "", accessToken: "") == .forbidden)
            #expect(try await sim.upgradeStatus(accessToken: "wrong_token", path: "/ws") == .forbidden)
        }
    }

    @Test("a fourth connection for one API key gets 429; other keys are unaffected")
    func fourthConnection() async throws {
        try await withSimulator { sim in
            try await withWebSocket(sim.kiteURL()) { _ in
                try await withWebSocket(sim.kiteURL(path: "/ws")) { _ in
                    try await withWebSocket(sim.kiteURL()) { _ in
                        try await waitUntil("three connections registered") { try await sim.connections().count == 3 }
                        #expect(try await sim.upgradeStatus() == .tooManyRequests)
                        try await withWebSocket(sim.kiteURL(apiKey: "sim_api_key_2", accessToken: "sim_access_token_2")) { other in
                            try await waitUntil("heartbeat on another key's connection") { other.received.contains(where: \.isHeartbeat) }
                        }
                    }
                }
            }
            // Slots come back when connections close.
            try await waitUntil("connections released") { try await sim.connections().isEmpty }
        }
    }

    @Test("more than 3,000 instruments on one connection gets an error text message and changes nothing")
    func instrumentLimit() async throws {
        try await withSimulator { sim in
            let tokens = sim.universe.instruments.prefix(3001).map(\.instrumentToken)
            try #require(tokens.count == 3001, "the universe must hold more than 3,000 instruments")
            try await withWebSocket(sim.kiteURL()) { ws in
                ws.send(.subscribe(Array(tokens.prefix(10))))
                try await waitUntil("first ten subscribed") { try await sim.connections().first?.subscribed_count == 10 }
                ws.send(.subscribe(tokens))
                try await waitUntil("error text message") {
                    ws.received.contains { message in
                        if case .text(let text) = message, case .error(let reason)? = try? KiteTextMessage.decode(jsonText: text) {
                            return reason.contains("3000")
                        }
                        return false
                    }
                }
                #expect(try await sim.connections().first?.subscribed_count == 10)
                // Exactly 3,000 is allowed.
                ws.send(.subscribe(Array(tokens.prefix(3000))))
                try await waitUntil("3,000 subscribed") { try await sim.connections().first?.subscribed_count == 3000 }
            }
        }
    }

    @Test("subscribe streams only those tokens, in quote mode by default; unknown tokens are ignored")
    func subscribeStreamsOnlySubscribed() async throws {
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            let wanted: Set<UInt32> = [sample.equity, sample.option, sample.index]
            try await withWebSocket(sim.kiteURL()) { ws in
                ws.send(.subscribe(Array(wanted) + [999_999_999]))
                try await waitUntil("ticks for every subscribed token") { Set(ws.ticks(since: 0).map(\.instrumentToken)) == wanted }
                let ticks = ws.ticks(since: 0)
                #expect(ticks.allSatisfy { wanted.contains($0.instrumentToken) })
                #expect(ticks.allSatisfy { $0.mode == .quote })
                let index = try #require(ticks.first { $0.instrumentToken == sample.index })
                #expect(index.isIndex && index.packetLength == KiteTickerCodec.indexQuotePacketLength)
                let equity = try #require(ticks.first { $0.instrumentToken == sample.equity })
                #expect(equity.lastPrice > 0 && equity.close > 0 && equity.volumeTraded > 0)
                // The simulator sees the subscription.
                let connection = try #require(try await sim.connections().first)
                #expect(connection.subscribed_count == 3)
                #expect(connection.tokens_by_mode["quote"] == 3)
            }
        }
    }

    @Test("mode changes take effect at once; unsubscribe stops the ticks")
    func modeChangeAndUnsubscribe() async throws {
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            try await withWebSocket(sim.kiteURL()) { ws in
                ws.send(.subscribe([sample.equity, sample.option, sample.index]))
                try await waitUntil("quote ticks") { ws.ticks(since: 0).contains { $0.instrumentToken == sample.equity } }

                let beforeMode = ws.count
                ws.send(.mode(.full, [sample.equity, sample.index]))
                ws.send(.mode(.ltp, [sample.option]))
                try await waitUntil("full and ltp ticks") {
                    let ticks = ws.ticks(since: beforeMode)
                    return ticks.contains { $0.instrumentToken == sample.equity && $0.mode == .full }
                        && ticks.contains { $0.instrumentToken == sample.option && $0.mode == .ltp }
                        && ticks.contains { $0.instrumentToken == sample.index && $0.mode == .full }
                }
                let full = try #require(ws.ticks(since: beforeMode).last { $0.instrumentToken == sample.equity && $0.mode == .full })
                let depth = try #require(full.depth)
                #expect(depth.buy.count == 5 && depth.sell.count == 5)
                #expect(depth.buy[0].price > 0 && depth.buy[0].price < depth.sell[0].price)
                let indexFull = try #require(ws.ticks(since: beforeMode).last { $0.instrumentToken == sample.index })
                #expect(indexFull.packetLength == KiteTickerCodec.indexFullPacketLength)
                let connection = try #require(try await sim.connections().first)
                #expect(connection.tokens_by_mode == ["ltp": 1, "quote": 0, "full": 2])

                ws.send(.unsubscribe([sample.equity]))
                try await waitUntil("unsubscribe seen by the simulator") { try await sim.connections().first?.subscribed_count == 2 }
                // A frame built before the unsubscribe may still be in flight: look only after the next full frame.
                let afterUnsubscribe = ws.count
                try await waitUntil("two frames after the unsubscribe") {
                    ws.received(since: afterUnsubscribe).filter { !$0.decodedTicks.isEmpty }.count >= 2
                }
                let later = ws.received(since: afterUnsubscribe).filter { !$0.decodedTicks.isEmpty }.dropFirst()
                #expect(later.allSatisfy { frame in !frame.decodedTicks.contains { $0.instrumentToken == sample.equity } })
                #expect(later.allSatisfy { frame in frame.decodedTicks.contains { $0.instrumentToken == sample.option } })
            }
        }
    }

    @Test("a 1-byte heartbeat arrives when nothing is subscribed")
    func heartbeat() async throws {
        try await withSimulator { sim in
            try await withWebSocket(sim.kiteURL()) { (ws: WSProbe) async throws -> Void in
                try await waitUntil("two heartbeats") { ws.received.filter(\.isHeartbeat).count >= 2 }
                let onlyHeartbeats = ws.received.allSatisfy { $0.isHeartbeat }
                #expect(onlyHeartbeats)
            }
        }
    }

    @Test("health and admin connection detail report the connection")
    func healthAndAdmin() async throws {
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            try await withWebSocket(sim.kiteURL()) { ws in
                ws.send(.subscribe([sample.equity]))
                try await waitUntil("subscribed") { try await sim.connections().first?.subscribed_count == 1 }
                let health = try await sim.http(.get, "/health")
                #expect(health.status == .ok)
                let json = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any]
                #expect(json?["status"] as? String == "ok")
                #expect(json?["service"] as? String == "broker-simulator")
                #expect(json?["connections"] as? Int == 1)
                let id = try #require(try await sim.connections().first?.id)
                let detail = try await sim.http(.get, "/admin/connections/\(id)")
                #expect(detail.status == .ok)
                #expect(detail.body.contains("\(sample.equity)"))
                #expect(try await sim.http(.get, "/admin/connections/9999").status == .notFound)
                let metrics = try await sim.http(.get, "/metrics")
                #expect(metrics.body.contains("broker_sim_ws_connections_accepted_total"))
            }
        }
    }
}
