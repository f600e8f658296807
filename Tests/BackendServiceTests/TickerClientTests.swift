import AsyncHTTPClient
import Foundation
import Logging
import Testing
import TestSupport

@testable import BackendService

@Suite("TickerClient")
struct TickerClientTests {
    @Test("an unreachable TickerService is a typed, transient error on every call")
    func unreachable() async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let client = TickerClient(baseURL: "http://127.0.0.1:\(Ports.freeLoopbackPort())/", apiKey: "k", httpClient: httpClient, logger: Logger(label: "t"))
        await #expect {
            _ = try await client.activeSubscriptions()
        } throws: { error in
            (error as? TickerClientError)?.code == .unreachable && (error as? TickerClientError)?.isTransient == true
        }
        await #expect {
            _ = try await client.history(token: 256265, from: Date(), to: Date(), interval: .minute)
        } throws: { error in
            (error as? TickerClientError)?.code == .unreachable
        }
        try await httpClient.shutdown()
    }

    @Test("history times are IST wall-clock text, as Kite and the ticker take them")
    func queryTime() {
        // 2025-11-20T03:45:00Z = 09:15 IST.
        #expect(TickerClient.istQueryTime(Date(timeIntervalSince1970: 1_763_610_300)) == "2025-11-20%2009:15:00")
        #expect(TickerClientError(.httpStatus, status: 429, "slow down").isTransient)
        #expect(!TickerClientError(.httpStatus, status: 400, "bad").isTransient)
    }
}
