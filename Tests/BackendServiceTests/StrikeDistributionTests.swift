import AsyncHTTPClient
import BrokerWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Shared
import SharedPostgres
import Synchronization
import Testing
import TestSupport

@testable import BackendService

/// Stands in for TickerService's `POST /subscriptions` and `GET /subscriptions` and records what it was asked.
final class FakeTicker: Sendable {
    struct Request: Sendable {
        var tokens: [Int64]
        var mode: String
        var holder: String
    }

    let requests = Mutex<[Request]>([])
    let active = Mutex<Set<Int64>>([])

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("subscriptions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 22)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            let list = json["instruments"] as? [[String: Any]] ?? [json]
            let tokens = list.compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value }
            let mode = list.first?["requested_mode"] as? String ?? ""
            self.requests.withLock { $0.append(Request(tokens: tokens, mode: mode, holder: json["holder"] as? String ?? "")) }
            self.active.withLock { $0.formUnion(tokens) }
            let answer: [String: Any] = [
                "subscriptions": tokens.map { ["instrument_token": $0, "status": "active"] }, "count": tokens.count, "created": tokens,
            ]
            return Response(status: .created, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: answer))))
        }
        router.get("subscriptions") { _, _ -> Response in
            let tokens = self.active.withLock { Array($0) }
            let answer: [String: Any] = ["subscriptions": tokens.map { ["instrument_token": $0, "status": "active", "mode": "FULL"] }, "count": tokens.count]
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: answer))))
        }
        return router
    }
}

/// The broker simulator's real instruments dump, downloaded once per test process.
enum SimulatorDump {
    static let instruments = Task<[KiteInstrument], any Error> {
        let port = Ports.freeLoopbackPort()
        let simulator = try ChildProcess(
            executable: try BuiltProducts.executable("BrokerSimulator"),
            arguments: ["--port", "\(port)", "--log-level", "warning"],
            outputPath: FileManager.default.temporaryDirectory.appendingPathComponent("broker-sim-strikes-\(port).log").path
        )
        defer { simulator.stopNow() }
        for _ in 0..<300 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/instruments")
            request.headers.add(name: "X-Kite-Version", value: "3")
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(30)), response.status == .ok {
                let body = try await response.body.collect(upTo: 256 << 20)
                return try KiteInstrumentCSV.parse(body.readableBytesView)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChildProcessError(message: "the broker simulator did not serve /instruments")
    }

    /// COPYs the dump into `instruments`.
    static func load(into postgres: PostgresClient) async throws -> [KiteInstrument] {
        let instruments = try await Self.instruments.value
        let columns = ["instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike", "tick_size", "lot_size",
                       "instrument_type", "segment", "exchange"]
        let rows: [[(any PostgresEncodable)?]] = instruments.map { i in
            [Int64(i.instrumentToken), Int64(i.exchangeToken), i.tradingsymbol, i.name, i.lastPrice, i.expiry?.iso, i.strike, i.tickSize, i.lotSize,
             i.instrumentType, i.segment, i.exchange]
        }
        _ = try await postgres.copyIn(table: "instruments", columns: columns, rows: rows)
        return instruments
    }
}

@Suite("GET /fo/strike-distribution and smart subscription")
struct StrikeDistributionTests {
    struct Setup {
        let fixture: BarFixture
        let instruments: [KiteInstrument]
        /// NIFTY's option expiries from the dump, ascending.
        var niftyExpiries: [String] {
            Array(Set(instruments.filter { $0.name == "NIFTY" && ($0.instrumentType == "CE" || $0.instrumentType == "PE") }.compactMap { $0.expiry?.iso })).sorted()
        }
        func niftyOptions(expiry: String) -> [KiteInstrument] {
            instruments.filter { $0.name == "NIFTY" && $0.expiry?.iso == expiry && ($0.instrumentType == "CE" || $0.instrumentType == "PE") }
                .sorted { ($0.strike, $0.instrumentType) < ($1.strike, $1.instrumentType) }
        }
    }

    func setup() async throws -> Setup {
        let fixture = try await BarFixture.make()
        let instruments = try await SimulatorDump.load(into: fixture.postgres)
        return Setup(fixture: fixture, instruments: instruments)
    }

    func router(_ fixture: BarFixture, tickerURL: String, enabled: Bool = true, timeout: Duration = .seconds(10), strikes: Int = 2)
        -> Router<BasicRequestContext>
    {
        let chains = OptionChainRepository(postgres: fixture.postgres)
        let ticker = TickerClient(baseURL: tickerURL, apiKey: nil, httpClient: .shared, logger: fixture.logger)
        let manager = SmartSubscriptionManager(
            ticker: ticker, chains: chains, settings: .init(waitTimeout: timeout, cacheTTL: .seconds(60), pollInterval: .milliseconds(50)), logger: fixture.logger)
        let prices = UnderlyingPriceResolver(redis: fixture.redis, channels: fixture.channels, chains: chains, ticker: ticker, logger: fixture.logger)
        let controller = StrikeDistributionController<BasicRequestContext>(
            chains: chains, smartSubscription: manager, prices: prices,
            settings: .init(smartSubscriptionEnabled: enabled, strikes: strikes), logger: fixture.logger)
        let router = Router()
        router.addRoutes(controller.endpoints)
        return router
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    @Test("stored bars give the seed's shape: status, series per expiry and strike with call and put, metadata")
    func withData() async throws {
        let setup = try await setup()
        let fixture = setup.fixture
        let expiry = try #require(setup.niftyExpiries.first)
        let options = setup.niftyOptions(expiry: expiry)
        let middle = options.count / 2
        let chosen = Array(options[(middle - 3)...(middle + 2)])
        for (n, option) in chosen.enumerated() {
            for minute in 0..<5 {
                try await fixture.postgres.execute(
                    "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES ($1, $2, 10, 12, 9, $3, 100, $4, 'backfill')",
                    [Int64(option.instrumentToken), Date(timeIntervalSince1970: TimeInterval(testMinute + Int64(minute) * 60)), 10.0 + Double(minute),
                     Int64(1_000 * (n + 1) + minute)]
                )
            }
        }
        let ticker = FakeTicker()
        let app = Application(router: router(fixture, tickerURL: "http://127.0.0.1:1"))
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/fo/strike-distribution?symbol=nifty&timeframe=5min&expiries=\(expiry)", method: .get)
            #expect(response.status == .ok)
            let body = try json(response.body)
            #expect(body["status"] as? String == "ok")
            let series = try #require(body["series"] as? [[String: Any]])
            #expect(series.count == 1)
            #expect(series.first?["expiry"] as? String == expiry)
            let strikes = try #require(series.first?["strikes"] as? [[String: Any]])
            #expect(strikes.count == Set(chosen.map(\.strike)).count)
            let first = try #require(strikes.first)
            let sideKey = chosen[0].instrumentType == "CE" ? "call" : "put"
            let side = try #require(first[sideKey] as? [String: Any])
            #expect(side["instrument_token"] as? Int64 == Int64(chosen[0].instrumentToken))
            #expect(side["close"] as? Double == 14)
            #expect(side["volume"] as? Int64 == 500)
            #expect(side["oi"] as? Int64 == 1_004)
            #expect(side["time"] as? String == "2025-11-20T03:45:00Z")
            let metadata = try #require(body["metadata"] as? [String: Any])
            #expect(metadata["auto_subscribed"] as? Bool == false)
            #expect(metadata["data_available"] as? Bool == true)
            #expect(metadata["reason"] as? String == "data_available")
            #expect(metadata["expiries"] as? [String] == [expiry])
        }
        #expect(ticker.requests.withLock { $0.isEmpty })
        await fixture.close()
    }

    @Test("no data + auto_subscribe: the chain around the money is subscribed, and the answer waits until every new option has a real bar")
    func autoSubscribeWaitsForData() async throws {
        let setup = try await setup()
        let fixture = setup.fixture
        let expiries = Array(setup.niftyExpiries.prefix(3))
        let options = setup.niftyOptions(expiry: expiries[0])
        let strikes = Array(Set(options.map(\.strike))).sorted()
        let spot = strikes[strikes.count / 2] + 1  // nearest strike is the middle one
        _ = try await fixture.redis.send(["HSET", fixture.channels.latestQuoteKey(256_265), "tk", "256265", "lp", String(spot)])
        let ticker = FakeTicker()
        let tickerApp = Application(router: ticker.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await tickerApp.test(.live) { tickerClient in
            let port = try #require(tickerClient.port)
            let app = Application(router: router(fixture, tickerURL: "http://127.0.0.1:\(port)", timeout: .seconds(20)))
            try await withConsumer(fixture.consumer()) {
                try await app.test(.router) { client in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        // The "feed": once TickerService was asked, ticks for the requested options arrive on the stream,
                        // the first one at once and the rest a moment later (as backfills land one after another).
                        group.addTask {
                            for _ in 0..<400 {
                                if let request = ticker.requests.withLock({ $0.first }), let first = request.tokens.first {
                                    let now = Int64(Date().timeIntervalSince1970)
                                    try await fixture.addTick(token: first, price: "101.50", volume: 10, oi: 77, ets: now)
                                    try await Task.sleep(for: .milliseconds(500))
                                    for token in request.tokens.dropFirst() {
                                        try await fixture.addTick(token: token, price: "55.25", volume: 5, oi: 10, ets: now)
                                    }
                                    return
                                }
                                try await Task.sleep(for: .milliseconds(25))
                            }
                        }
                        let response = try await client.execute(uri: "/fo/strike-distribution?symbol=NIFTY&timeframe=1min", method: .get)
                        try await group.waitForAll()
                        #expect(response.status == .ok)
                        let body = try json(response.body)
                        let metadata = try #require(body["metadata"] as? [String: Any])
                        #expect(metadata["auto_subscribed"] as? Bool == true)
                        #expect(metadata["data_available"] as? Bool == true)
                        #expect(metadata["expiries"] as? [String] == expiries)
                        let requests = ticker.requests.withLock { $0 }
                        #expect(requests.count == 1)
                        let request = try #require(requests.first)
                        #expect(request.holder == "ondemand:strike-distribution")
                        #expect(request.mode == "FULL")
                        // ±2 strikes around the money, calls and puts, in each of the 3 default expiries.
                        let expected = expiries.flatMap { expiry -> [Int64] in
                            let chain = setup.niftyOptions(expiry: expiry)
                            let levels = Array(Set(chain.map(\.strike))).sorted()
                            let atm = levels.indices.min { abs(levels[$0] - spot) < abs(levels[$1] - spot) }!
                            let window = Set(levels[max(0, atm - 2)...min(levels.count - 1, atm + 2)])
                            return chain.filter { window.contains($0.strike) }.map { Int64($0.instrumentToken) }
                        }
                        #expect(Set(request.tokens) == Set(expected))
                        #expect(Set(metadata["newly_subscribed"] as? [Int64] ?? []) == Set(expected))
                        #expect((metadata["underlying"] as? [String: Any])?["source"] as? String == "quote")
                        #expect(metadata["instruments_with_data"] as? Int == expected.count)
                        // Every subscribed strike is in the answer, not only the first one that had a bar.
                        let series = try #require(body["series"] as? [[String: Any]])
                        #expect(series.compactMap { $0["expiry"] as? String }.sorted() == expiries.sorted())
                        for expiry in series {
                            #expect((expiry["strikes"] as? [[String: Any]])?.count == 5, "expiry \(expiry["expiry"] ?? "?")")
                        }
                    }
                }
            }
        }
        await fixture.close()
    }

    @Test("no data within the wait: data_available is false; a second request uses the status cache and subscribes nothing")
    func autoSubscribeTimesOut() async throws {
        let setup = try await setup()
        let fixture = setup.fixture
        let strikes = Array(Set(setup.niftyOptions(expiry: setup.niftyExpiries[0]).map(\.strike))).sorted()
        // No quote in Redis: the underlying's latest stored bar gives the price.
        try await fixture.postgres.execute(
            "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES (256265, $1, 1, 1, 1, $2, 0, 0, 'backfill')",
            [Date(timeIntervalSince1970: TimeInterval(testMinute)), strikes[strikes.count / 2]]
        )
        let ticker = FakeTicker()
        let tickerApp = Application(router: ticker.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await tickerApp.test(.live) { tickerClient in
            let port = try #require(tickerClient.port)
            let app = Application(router: router(fixture, tickerURL: "http://127.0.0.1:\(port)", timeout: .milliseconds(300)))
            try await app.test(.router) { client in
                let first = try json(try await client.execute(uri: "/fo/strike-distribution?symbol=NIFTY", method: .get).body)
                let metadata = try #require(first["metadata"] as? [String: Any])
                #expect(metadata["auto_subscribed"] as? Bool == true)
                #expect(metadata["reason"] == nil, "reason is only for when nothing was attempted (it was \"\" before)")
                #expect(metadata["data_available"] as? Bool == false)
                #expect(metadata["instruments_with_data"] as? Int == 0)
                #expect((metadata["waited_ms"] as? Int ?? 0) >= 300)
                #expect((metadata["underlying"] as? [String: Any])?["source"] as? String == "bars")
                #expect((first["series"] as? [Any])?.isEmpty == true)
                let newly = metadata["newly_subscribed"] as? [Int64] ?? []
                #expect(!newly.isEmpty)

                let second = try json(try await client.execute(uri: "/fo/strike-distribution?symbol=NIFTY&auto_subscribe=true", method: .get).body)
                let again = try #require(second["metadata"] as? [String: Any])
                #expect(again["auto_subscribed"] as? Bool == false)
                #expect(Set(again["already_subscribed"] as? [Int64] ?? []) == Set(newly))
                #expect(again["data_available"] as? Bool == false)
                #expect(ticker.requests.withLock { $0.count } == 1)

                let off = try json(try await client.execute(uri: "/fo/strike-distribution?symbol=NIFTY&auto_subscribe=false", method: .get).body)
                #expect((off["metadata"] as? [String: Any])?["reason"] as? String == "auto_subscribe_off")
            }
        }
        await fixture.close()
    }

    @Test("SMART_SUBSCRIPTION_ENABLED=false: nothing is subscribed and metadata says so")
    func disabled() async throws {
        let setup = try await setup()
        let app = Application(router: router(setup.fixture, tickerURL: "http://127.0.0.1:1", enabled: false))
        try await app.test(.router) { client in
            let body = try json(try await client.execute(uri: "/fo/strike-distribution?symbol=NIFTY&timeframe=15min", method: .get).body)
            let metadata = try #require(body["metadata"] as? [String: Any])
            #expect(metadata["reason"] as? String == "smart_subscription_disabled")
            #expect(metadata["auto_subscribed"] as? Bool == false)
            #expect(metadata["data_available"] as? Bool == false)
        }
        await setup.fixture.close()
    }

    @Test("bad parameters get 400 with a message; an unknown underlying 404")
    func badParameters() async throws {
        let setup = try await setup()
        let app = Application(router: router(setup.fixture, tickerURL: "http://127.0.0.1:1"))
        try await app.test(.router) { client in
            for (uri, mention) in [
                ("/fo/strike-distribution", "symbol"),
                ("/fo/strike-distribution?symbol=NIFTY&timeframe=2min", "timeframe"),
                ("/fo/strike-distribution?symbol=NIFTY&expiries=2025-13-01", "expiries"),
                ("/fo/strike-distribution?symbol=NIFTY&expiry=28-11-2025", "expiries"),
                ("/fo/strike-distribution?symbol=NIFTY&auto_subscribe=maybe", "auto_subscribe"),
                ("/fo/strike-distribution?symbol=NI%7BFTY", "symbol"),
            ] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .badRequest, "\(uri)")
                #expect((try json(response.body)["message"] as? String)?.contains(mention) == true, "\(uri)")
            }
            let unknown = try await client.execute(uri: "/fo/strike-distribution?symbol=NOSUCHNAME", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try json(unknown.body)["error"] as? String == "unknown_symbol")
        }
        await setup.fixture.close()
    }
}
