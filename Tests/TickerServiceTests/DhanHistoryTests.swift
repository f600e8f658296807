import AsyncHTTPClient
import BrokerWire
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SharedInstruments
import Testing
import TestSupport

@testable import TickerService

/// Instrument rows from the simulator's dump, as the registry would hold them.
struct DumpLookup: InstrumentTokenLookup {
    let rows: [UInt32: KiteInstrument]

    init(_ simulator: SimulatorProcess, exchange: String) async throws {
        let csv = try await SimulatorProcess.get("\(simulator.httpURL)/instruments/\(exchange)").body
        rows = Dictionary(try KiteInstrumentCSV.parse(Array(csv.utf8)).map { ($0.instrumentToken, $0) }) { first, _ in first }
    }

    func instrument(token: Int64) async throws -> Instrument? {
        rows[UInt32(token)].map {
            Instrument(
                instrumentToken: Int64($0.instrumentToken), exchangeToken: Int64($0.exchangeToken), tradingsymbol: $0.tradingsymbol, name: $0.name,
                expiry: $0.expiry?.iso, strike: $0.strike, tickSize: $0.tickSize, lotSize: $0.lotSize, instrumentType: $0.instrumentType,
                segment: $0.segment, exchange: $0.exchange, updatedAt: Date()
            )
        }
    }
}

@Suite("History from Dhan: /history for instruments on Dhan accounts")
struct DhanHistoryTests {
    static func dhanAccount(_ simulator: SimulatorProcess, accessToken: String = "sim_access_token") -> BrokerAccount {
        BrokerAccount(
            id: "dhan", broker: .dhan, webSocketURL: "\(simulator.wsURL)/dhan", restURL: simulator.httpURL, maxConnections: 5, instrumentsPerConnection: 5000,
            credentialSource: .fixed(BrokerCredentials(apiKey: "sim_api_key", accessToken: accessToken))
        )
    }

    static func app(
        _ accounts: [BrokerAccount], instruments: (any InstrumentTokenLookup)? = nil, placedAccount: @escaping @Sendable (UInt32) -> String? = { _ in nil }
    ) -> some ApplicationProtocol {
        var client = HistoricalClient(
            configuration: FeedConfiguration(accounts: accounts), instruments: instruments, placedAccount: placedAccount, logger: feedTestLogger("test.history.dhan")
        )
        client.failureBaseDelay = .milliseconds(20)
        let router = Router()
        router.addRoutes(HistoryController(client: client, apiKey: nil).endpoints)
        return Application(router: router)
    }

    /// The simulator's Kite API answer for the same range (`to` inclusive), and its candles.
    static func kiteCandles(_ simulator: SimulatorProcess, token: UInt32, from: String, to: String, oi: Bool) async throws -> [KiteCandle] {
        var request = HTTPClientRequest(url: "\(simulator.httpURL)/instruments/historical/\(token)/minute?from=\(from)%2000:00:00&to=\(to)%2023:59:59\(oi ? "&oi=1" : "")")
        request.headers.add(name: "Authorization", value: "token sim_api_key:sim_access_token")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return try KiteHistoricalJSON.parse(String(buffer: try await response.body.collect(upTo: 64 << 20)))
    }

    /// `by_broker` of `GET /admin/historical`.
    static func servedByBroker(_ simulator: SimulatorProcess) async throws -> [String: Int] {
        let json = try JSONSerialization.jsonObject(with: Data(try await SimulatorProcess.get("\(simulator.httpURL)/admin/historical").body.utf8)) as? [String: Any]
        return json?["by_broker"] as? [String: Int] ?? [:]
    }

    @Test("a Dhan-only deployment answers /history from Dhan's charts API with exactly the simulator's candles, in Kite's shape")
    func dhanOnly() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let lookup = try await DumpLookup(simulator, exchange: "NFO")
        let equity = try #require(try await simulator.equityTokens(1).first)
        let option = try #require(lookup.rows.values.first { $0.isOption && $0.name == "NIFTY" }?.instrumentToken)
        let from = HistoryTests.istDate(daysAgo: 40), to = HistoryTests.istDate(daysAgo: 1)
        try await Self.app([Self.dhanAccount(simulator)], instruments: lookup).test(.live) { client in
            for (token, oi) in [(equity, false), (option, true), (UInt32(256_265), false)] {
                let expected = try await Self.kiteCandles(simulator, token: token, from: from, to: to, oi: oi)
                try await client.execute(uri: "/history/\(token)?from=\(from)&to=\(to)&interval=minute\(oi ? "&oi=1" : "")", method: .get) { response in
                    #expect(response.status == .ok, "\(token): \(String(buffer: response.body).prefix(300))")
                    #expect(String(buffer: response.body) == KiteHistoricalJSON.encode(expected, includeOI: oi), "\(token)")
                }
            }
        }
        #expect(try await Self.servedByBroker(simulator) == ["kite": 3, "dhan": 3], "every /history request went to Dhan (the Kite reads are the test's own)")
    }

    @Test("in a Kite + Dhan pool an instrument placed on the Dhan account is fetched from Dhan, one placed nowhere from Kite")
    func followsPlacement() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let tokens = try await simulator.equityTokens(2)
        let day = HistoryTests.istWeekday(atLeastDaysAgo: 2)  // a whole session: 75 five-minute candles
        let onDhan = tokens[0]
        let accounts = [testAccount(simulator), Self.dhanAccount(simulator)]
        try await Self.app(accounts, placedAccount: { $0 == onDhan ? "dhan" : nil }).test(.router) { client in
            for token in tokens {
                try await client.execute(uri: "/history/\(token)?from=\(day)&to=\(day)&interval=5minute", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect((try? KiteHistoricalJSON.parse(String(buffer: response.body)))?.count == 75, "\(token)")
                }
            }
        }
        #expect(try await Self.servedByBroker(simulator) == ["kite": 1, "dhan": 1])
    }

    static func errorType(_ response: TestResponse) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["error_type"] as? String
    }

    @Test("Dhan's errors map to /history's: a 500 is retried, repeated ones are 502, refused credentials 502, unsupported input 400")
    func errors() async throws {
        let simulator = try await SimulatorProcess(sessionMode: "exchange")
        let token = try #require(try await simulator.equityTokens(1).first)
        let day = HistoryTests.istDate(daysAgo: 3)
        let uri = "/history/\(token)?from=\(day)&to=\(day)&interval=minute"
        try await Self.app([Self.dhanAccount(simulator)]).test(.router) { client in
            try await simulator.admin("faults/historical", #"{"count":1}"#)
            try await client.execute(uri: uri, method: .get) { #expect($0.status == .ok) }
            try await simulator.admin("faults/historical", #"{"count":10}"#)
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badGateway && Self.errorType(response) == "NetworkException")
                #expect(String(buffer: response.body).contains("DH-908"))
            }
            try await simulator.admin("faults/reset")
            for (query, fragment) in [
                ("interval=3minute", "not served by Dhan"),
                ("interval=day", "not served by Dhan"),
            ] {
                try await client.execute(uri: "/history/\(token)?from=\(day)&to=\(day)&\(query)", method: .get) { response in
                    #expect(response.status == .badRequest && Self.errorType(response) == "InputException")
                    #expect(String(buffer: response.body).contains(fragment), "\(query): \(String(buffer: response.body))")
                }
            }
            // 5-minute candles may span 100 days on Kite, 90 on Dhan.
            let from = HistoryTests.istDate(daysAgo: 95)
            try await client.execute(uri: "/history/\(token)?from=\(from)&to=\(day)&interval=5minute", method: .get) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("at most 90 days"))
            }
            // An option the registry does not know: Dhan needs its instrument type.
            try await client.execute(uri: "/history/\(35001 << 8 | 2)?from=\(day)&to=\(day)&interval=minute", method: .get) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("instrument registry"))
            }
            // A Kite segment Dhan does not serve (MCX-SX).
            try await client.execute(uri: "/history/\(1234 << 8 | 8)?from=\(day)&to=\(day)&interval=minute", method: .get) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("Dhan does not stream"))
            }
        }
        try await Self.app([Self.dhanAccount(simulator, accessToken: "expired")]).test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badGateway && Self.errorType(response) == "NetworkException")
                #expect(String(buffer: response.body).contains("DH-901"))
                #expect(!String(buffer: response.body).contains("expired\""), "the token is not echoed")
            }
        }
    }
}
