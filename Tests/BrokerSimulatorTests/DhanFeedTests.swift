import BrokerWire
import Foundation
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
}
