import BrokerWire
import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import BrokerSimulator

@Suite("Fault control")
struct FaultsTests {
    @Test("drop closes the TCP connection without a close frame (the client sees 1006)")
    func drop() async throws {
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            let probe = try await withWebSocket(sim.kiteURL()) { ws in
                ws.send(.subscribe([sample.equity]))
                try await waitUntil("ticks flowing") { !ws.ticks(since: 0).isEmpty }
                let id = try #require(try await sim.connections().first?.id)
                try await sim.admin("faults/drop", "{\"connection_id\": \(id)}")
                try await waitUntil("connection ended") { ws.outcome != nil }
            }
            switch probe.outcome {
            case .ended(let closeCode)?:
                #expect(closeCode == nil, "a dropped connection must not send a close frame, got \(closeCode ?? "")")
            case .failed?:
                break  // a reset surfaces as an error in the client: also "no close frame"
            case nil:
                Issue.record("connection did not end")
            }
            try await waitUntil("registry forgot the connection") { try await sim.connections().isEmpty }
        }
    }

    @Test("drop by api key and all")
    func dropByKey() async throws {
        try await withSimulator { sim in
            try await withWebSocket(sim.kiteURL()) { first in
                try await withWebSocket(sim.kiteURL(apiKey: "sim_api_key_2", accessToken: "sim_access_token_2")) { second in
                    try await waitUntil("two connections") { try await sim.connections().count == 2 }
                    try await sim.admin("faults/drop?api_key=sim_api_key_2")
                    try await waitUntil("second dropped") { second.outcome != nil }
                    #expect(first.outcome == nil)
                    try await sim.admin("faults/drop", "{\"all\": true}")
                    try await waitUntil("first dropped") { first.outcome != nil }
                }
            }
        }
    }

    @Test("stall stops every frame, heartbeats included, while the socket stays open; reset resumes")
    func stall() async throws {
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            try await withWebSocket(sim.kiteURL()) { ws in
                ws.send(.subscribe([sample.equity]))
                try await waitUntil("ticks flowing") { !ws.ticks(since: 0).isEmpty }
                let id = try #require(try await sim.connections().first?.id)
                try await sim.admin("faults/stall", "{\"connection_id\": \(id)}")
                #expect(try await sim.connections().first?.stalled == true)
                // Let a frame that was already being written arrive, then watch for several tick and heartbeat intervals.
                try await Task.sleep(for: .milliseconds(400))
                let atStall = ws.count
                try await Task.sleep(for: .seconds(2))
                #expect(ws.count == atStall, "frames arrived during a stall")
                #expect(ws.outcome == nil, "the socket must stay open during a stall")

                try await sim.admin("faults/reset")
                try await waitUntil("ticks resume after reset") { ws.ticks(since: atStall).contains { $0.instrumentToken == sample.equity } }
            }
        }
    }

    @Test("stall with seconds ends by itself")
    func timedStall() async throws {
        try await withSimulator { sim in
            try await withWebSocket(sim.kiteURL()) { ws in
                try await waitUntil("heartbeat") { ws.received.contains(where: \.isHeartbeat) }
                try await sim.admin("faults/stall", "{\"all\": true, \"seconds\": 1}")
                let atStall = ws.count
                try await waitUntil("heartbeats resume after the stall") { ws.received(since: atStall).contains(where: \.isHeartbeat) }
                #expect(ws.outcome == nil)
            }
        }
    }

    @Test("refuse answers new connections with 429 while active; reset lifts it")
    func refuse() async throws {
        try await withSimulator { sim in
            try await sim.admin("faults/refuse", "{\"seconds\": 60}")
            #expect(try await sim.upgradeStatus() == .tooManyRequests)
            let state = try await sim.http(.get, "/admin/faults")
            #expect(state.body.contains("\"refusing_connections\":true"))
            try await sim.admin("faults/reset")
            try await withWebSocket(sim.kiteURL()) { ws in
                try await waitUntil("connected after reset") { ws.received.contains(where: \.isHeartbeat) }
            }
        }
    }

    @Test("fault requests are validated")
    func validation() async throws {
        try await withSimulator { sim in
            let noSelector = try await sim.http(.post, "/admin/faults/drop", body: "{}")
            let unknownID = try await sim.http(.post, "/admin/faults/drop", body: "{\"connection_id\": 42}")
            let noSeconds = try await sim.http(.post, "/admin/faults/refuse", body: "{}")
            let zeroCount = try await sim.http(.post, "/admin/faults/historical", body: "{\"count\": 0}")
            let notJSON = try await sim.http(.post, "/admin/faults/stall", body: "not json")
            #expect(noSelector.status == .badRequest)
            #expect(unknownID.status == .notFound)
            #expect(noSeconds.status == .badRequest)
            #expect(zeroCount.status == .badRequest)
            #expect(notJSON.status == .badRequest)
        }
    }

    @Test("historical failures are consumed one call at a time")
    func historicalFailures() async throws {
        try await withSimulator { sim in
            let state = try await sim.admin("faults/historical", "{\"count\": 2}")
            #expect(state.contains("\"historical_failures_pending\":2"))
        }
        let faults = FaultInjector()
        faults.failHistoricalCalls(count: 2)
        #expect(faults.consumeHistoricalFailure())
        #expect(faults.consumeHistoricalFailure())
        #expect(!faults.consumeHistoricalFailure())
        faults.failHistoricalCalls(count: 1)
        faults.reset()
        #expect(!faults.consumeHistoricalFailure())
    }

    @Test("GET /admin/historical counts served historical requests, in all and per token; rejected ones are not counted")
    func historicalRequestCounts() async throws {
        try await withSimulator { sim in
            let auth: HTTPFields = [.authorization: "token sim_api_key:sim_access_token"]
            let query = "from=2025-11-20+09:15:00&to=2025-11-20+09:20:00"
            #expect(try await sim.http(.get, "/instruments/historical/408065/minute?\(query)", headers: auth).status == .ok)
            #expect(try await sim.http(.get, "/instruments/historical/256265/minute?\(query)", headers: auth).status == .ok)
            #expect(try await sim.http(.get, "/instruments/historical/408065/minute?\(query)").status == .forbidden)
            let counts = try await sim.http(.get, "/admin/historical")
            #expect(counts.status == .ok)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(counts.body.utf8)) as? [String: Any])
            #expect(json["total"] as? Int == 2)
            #expect(json["by_token"] as? [String: Int] == ["408065": 1, "256265": 1])
        }
    }
}
