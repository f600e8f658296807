import BrokerWire
import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import BrokerSimulator

@Suite("Dhan v2 feed")
struct DhanFeedTests {
    private func dhanURL(_ sim: SimulatorFixture, clientID: String = "sim_api_key", token: String = "sim_access_token") -> String {
        "ws://127.0.0.1:\(sim.port)/dhan?version=2&token=\(token)&clientId=\(clientID)&authType=2"
    }

    private func packets(_ probe: WSProbe) -> [DhanPacket] {
        probe.received.flatMap { message -> [DhanPacket] in
            guard case .binary(let bytes) = message else { return [] }
            return DhanFeedCodec.decode(bytes).compactMap { try? $0.get() }
        }
    }

    @Test("subscribe streams little-endian packets in the requested mode for the same market")
    func subscribe() async throws {
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            let securityID = KiteSegment.exchangeToken(of: sample.equity)
            try await withWebSocket(dhanURL(sim)) { ws in
                ws.send(DhanRequest.subscribe(.quote, [DhanInstrument(.nseEQ, String(securityID))]).jsonText())
                try await waitUntil("quote packets") {
                    packets(ws).contains { if case .quote(let quote) = $0 { quote.instrument.securityId == securityID } else { false } }
                }
                let all = packets(ws)
                #expect(all.contains { if case .previousClose = $0 { true } else { false } })
                let quote = try #require(
                    all.compactMap { packet -> DhanQuote? in if case .quote(let quote) = packet { quote } else { nil } }.last
                )
                #expect(quote.instrument.segment == .nseEQ && quote.lastPrice > 0 && quote.high >= quote.low)
                let connections = try await sim.connections()
                #expect(connections.first?.kind == "dhan" && connections.first?.subscribed_count == 1)

                ws.send(DhanRequest.subscribe(.full, [DhanInstrument(.nseEQ, String(securityID))]).jsonText())
                try await waitUntil("full packets") {
                    packets(ws).contains { if case .full(let full) = $0 { full.depth.count == 5 && full.depth[0].bidPrice < full.depth[0].askPrice } else { false } }
                }
            }
        }
    }

    @Test("bad credentials get a disconnect packet with code 808")
    func badCredentials() async throws {
        try await withSimulator { sim in
            let probe = try await withWebSocket(dhanURL(sim, token: "nope")) { ws in
                try await waitUntil("connection ended") { ws.outcome != nil }
            }
            let disconnect = packets(probe).compactMap { packet -> UInt16? in if case .disconnect(_, let code) = packet { code } else { nil } }
            #expect(disconnect == [808])
        }
    }

    private func disconnectCodes(_ probe: WSProbe) -> [UInt16] {
        packets(probe).compactMap { packet -> UInt16? in if case .disconnect(_, let code) = packet { code } else { nil } }
    }

    /// `count` NSE equities as Dhan instruments.
    private func equities(_ sim: SimulatorFixture, _ count: Int) -> [DhanInstrument] {
        sim.universe.instruments.filter { KiteSegment(token: $0.instrumentToken) == .nse && $0.instrumentType == "EQ" }.prefix(count)
            .map { DhanInstrument(.nseEQ, String($0.exchangeToken)) }
    }

    @Test("index packets carry Dhan's IDX_I ids from DhanInstrumentMap: NIFTY 50 is 13, not its Kite exchange token")
    func indexIDs() async throws {
        try await withSimulator { sim in
            try await withWebSocket(dhanURL(sim)) { ws in
                ws.send(DhanRequest.subscribe(.ticker, [DhanInstrument(.idxI, "13"), DhanInstrument(.idxI, "1001")]).jsonText())
                try await waitUntil("NIFTY ticker packets") {
                    packets(ws).contains { if case .ticker(let ticker) = $0 { ticker.instrument == DhanInstrumentID(.idxI, 13) } else { false } }
                }
                #expect(packets(ws).allSatisfy { $0.instrument == DhanInstrumentID(.idxI, 13) }, "IDX_I 1001 is no Dhan index and must not stream")
                let connections = try await sim.connections()
                #expect(connections.first?.subscribed_count == 1)
                let detail = try await sim.http(.get, "/admin/connections/\(try #require(connections.first?.id))")
                #expect(detail.body.contains("256265"), "IDX_I 13 streams Kite token 256265 (NIFTY 50): \(detail.body)")
            }
        }
    }

    @Test("a subscribe message with 101 instruments gets the disconnect packet 804 and the close, nothing subscribed; 100 are fine")
    func instrumentsPerMessage() async throws {
        try await withSimulator { sim in
            let list = equities(sim, 101)
            try #require(list.count == 101)
            try await withWebSocket(dhanURL(sim)) { ws in
                ws.send(DhanRequest.subscribe(.ticker, Array(list.prefix(100))).jsonText())
                try await waitUntil("100 instruments subscribed") { try await sim.connections().first?.subscribed_count == 100 }
                #expect(ws.outcome == nil && disconnectCodes(ws).isEmpty)
            }
            try await waitUntil("the first connection is gone") { try await sim.connections().isEmpty }
            let refused = try await withWebSocket(dhanURL(sim)) { ws in
                ws.send(DhanRequest.subscribe(.ticker, list).jsonText())
                try await waitUntil("the simulator closed the connection") { ws.outcome != nil }
            }
            #expect(disconnectCodes(refused) == [804])
            #expect(!packets(refused).contains { if case .ticker = $0 { true } else { false } }, "no instrument of the message may stream")
            let rejections = try await sim.http(.get, "/metrics").body
            #expect(rejections.contains("reason=\"instruments_per_message\""), "the refusal is counted")
        }
    }

    @Test("faults with feed=dhan: drop and stall act on the Dhan connection only; refuse answers a Dhan upgrade with 429")
    func faults() async throws {
        try await withSimulator { sim in
            let equity = equities(sim, 1)
            try await withWebSocket(sim.kiteURL()) { kite in
                try await withWebSocket(dhanURL(sim)) { dhan in
                    dhan.send(DhanRequest.subscribe(.quote, equity).jsonText())
                    try await waitUntil("Dhan packets") { !packets(dhan).isEmpty }
                    try await waitUntil("both connections open") { try await sim.connections().count == 2 }

                    try await sim.admin("faults/stall?feed=dhan", "{\"all\": true}")
                    let stalled = Dictionary(uniqueKeysWithValues: try await sim.connections().map { ($0.kind, $0.stalled) })
                    #expect(stalled == ["dhan": true, "kite": false])
                    try await sim.admin("faults/reset")
                    let atReset = dhan.count
                    try await waitUntil("Dhan packets resume after reset") { dhan.count > atReset }

                    try await sim.admin("faults/drop?feed=dhan", "{\"all\": true}")
                    try await waitUntil("the Dhan connection dropped") { dhan.outcome != nil }
                    if case .ended(let closeCode)? = dhan.outcome { #expect(closeCode == nil, "a drop sends no close frame") }
                    #expect(disconnectCodes(dhan).isEmpty, "a drop is not a disconnect packet")
                    try await waitUntil("only the Kite connection is left") { try await sim.connections().map(\.kind) == ["kite"] }
                    #expect(kite.outcome == nil)
                }
            }
            try await sim.admin("faults/refuse", "{\"seconds\": 30}")
            let headers: HTTPFields = [
                .upgrade: "websocket", .connection: "Upgrade", .secWebSocketKey: "dGhlIHNhbXBsZSBub25jZQ==", .secWebSocketVersion: "13",
            ]
            let refused = try await sim.http(.get, "/dhan?version=2&token=sim_access_token&clientId=sim_api_key&authType=2", headers: headers)
            #expect(refused.status == .tooManyRequests)
            try await sim.admin("faults/reset")
            try await withWebSocket(dhanURL(sim)) { ws in
                ws.send(DhanRequest.subscribe(.ticker, equity).jsonText())
                try await waitUntil("Dhan packets after the refusal is reset") { !packets(ws).isEmpty }
            }
        }
    }
}
