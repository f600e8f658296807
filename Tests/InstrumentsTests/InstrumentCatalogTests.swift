import Foundation
import Logging
import Shared
import SharedInstruments
import SharedPostgres
import TestSupport
import Testing

/// The catalog against the real `instruments` table (the platform's migrations on TestSupport's PostgreSQL).
@Suite("InstrumentCatalog")
struct InstrumentCatalogTests {
    static let logger = Logger(label: "InstrumentsTests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// (token, exchange token, symbol, name, expiry, strike, type, segment, exchange)
    static let rows: [(Int64, Int64, String, String, String?, Double, String, String, String)] = [
        (256_265, 1001, "NIFTY 50", "NIFTY 50", nil, 0, "EQ", "INDICES", "NSE"),
        (738_561, 2885, "RELIANCE", "RELIANCE INDUSTRIES", nil, 0, "EQ", "NSE", "NSE"),
        (128_083_204, 500_325, "RELIANCE", "RELIANCE INDUSTRIES", nil, 0, "EQ", "BSE", "BSE"),
        (13_660_418, 53_361, "NIFTY25NOV24500CE", "NIFTY", "2025-11-25", 24_500, "CE", "NFO-OPT", "NFO"),
        (13_660_419, 53_362, "NIFTY25NOV24500PE", "NIFTY", "2025-11-25", 24_500, "PE", "NFO-OPT", "NFO"),
        (13_660_420, 53_363, "NIFTY25NOV24400CE", "NIFTY", "2025-11-25", 24_400, "CE", "NFO-OPT", "NFO"),
        (13_700_000, 54_000, "NIFTY25DEC24500CE", "NIFTY", "2025-12-30", 24_500, "CE", "NFO-OPT", "NFO"),
        (13_500_000, 50_000, "NIFTY25OCT24500CE", "NIFTY", "2025-10-28", 24_500, "CE", "NFO-OPT", "NFO"),
        (13_800_000, 55_000, "NIFTY25NOVFUT", "NIFTY", "2025-11-25", 0, "FUT", "NFO-FUT", "NFO"),
        (13_800_001, 55_001, "NIFTY25DECFUT", "NIFTY", "2025-12-30", 0, "FUT", "NFO-FUT", "NFO"),
        (60_417_287, 2885, "CRUDEOIL25DECFUT", "CRUDEOIL", "2025-12-18", 0, "FUT", "MCX-FUT", "MCX"),
    ]

    /// A fresh migrated database with ``rows`` loaded, and its catalog.
    func withCatalog(_ body: (PostgresInstrumentCatalog, PostgresClient) async throws -> Void) async throws {
        let url = try await PostgresCluster.shared.createDatabase()
        let postgres = PostgresClient(configuration: PostgresConfiguration(connectionString: url, poolSize: 2), logger: Self.logger)
        do {
            _ = try await Migrator(client: postgres, logger: Self.logger).migrate(try MigrationLoader.load(directory: PlatformMigrations.directory))
            for row in Self.rows {
                try await postgres.execute(
                    """
                    INSERT INTO instruments (instrument_token, exchange_token, tradingsymbol, name, expiry, strike, tick_size, lot_size,
                                             instrument_type, segment, exchange)
                    VALUES ($1, $2, $3, $4, $5::date, $6, 0.05, 75, $7, $8, $9)
                    """,
                    [row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8]
                )
            }
            try await body(PostgresInstrumentCatalog(postgres: postgres), postgres)
        } catch {
            await postgres.close()
            throw error
        }
        await postgres.close()
    }

    @Test("by instrument token: one, many, unknown")
    func byToken() async throws {
        try await withCatalog { catalog, _ async throws in
            let call = try #require(try await catalog.instrument(token: 13_660_418))
            #expect(call.tradingsymbol == "NIFTY25NOV24500CE")
            #expect(call.exchangeToken == 53_361)
            #expect(call.expiry == "2025-11-25")
            #expect(call.strike == 24_500)
            #expect(call.lotSize == 75)
            #expect(call.instrumentType == "CE")
            #expect(call.segment == "NFO-OPT")
            #expect(call.exchange == "NFO")
            #expect(try await catalog.instrument(token: 1) == nil)
            let many = try await catalog.instruments(tokens: [738_561, 256_265, 738_561, 1])
            #expect(Set(many.keys) == [738_561, 256_265])
            #expect(many[256_265]?.expiry == nil)
            #expect(try await catalog.instruments(tokens: []).isEmpty)
        }
    }

    @Test("by exchange token and exchange; by trading symbol and exchange, any case")
    func byExchange() async throws {
        try await withCatalog { catalog, _ async throws in
            // 2885 is RELIANCE on NSE and a crude future on MCX: the exchange decides.
            #expect(try await catalog.instrument(exchangeToken: 2885, exchange: "NSE")?.instrumentToken == 738_561)
            #expect(try await catalog.instrument(exchangeToken: 2885, exchange: "mcx")?.instrumentToken == 60_417_287)
            #expect(try await catalog.instrument(exchangeToken: 2885, exchange: "BSE") == nil)
            #expect(try await catalog.instrument(tradingsymbol: "reliance", exchange: "bse")?.instrumentToken == 128_083_204)
            #expect(try await catalog.instrument(tradingsymbol: "RELIANCE", exchange: "NFO") == nil)
        }
    }

    @Test("option chain: has options, expiries from a day, options by expiry, strike, type")
    func optionChain() async throws {
        try await withCatalog { catalog, _ async throws in
            #expect(try await catalog.hasOptions(underlying: "NIFTY"))
            #expect(try await catalog.hasOptions(underlying: "CRUDEOIL") == false)
            #expect(try await catalog.optionExpiries(underlying: "NIFTY", fromDay: "2025-11-01", limit: 5) == ["2025-11-25", "2025-12-30"])
            #expect(try await catalog.optionExpiries(underlying: "NIFTY", fromDay: "2025-10-01", limit: 1) == ["2025-10-28"])
            let chain = try await catalog.options(underlying: "NIFTY", expiries: ["2025-11-25", "2025-12-30"])
            #expect(chain.map(\.tradingsymbol) == ["NIFTY25NOV24400CE", "NIFTY25NOV24500CE", "NIFTY25NOV24500PE", "NIFTY25DEC24500CE"])
            #expect(try await catalog.options(underlying: "NIFTY", expiries: []).isEmpty)
        }
    }

    @Test("futures and spot of an underlying")
    func underlying() async throws {
        try await withCatalog { catalog, _ async throws in
            #expect(try await catalog.futures(underlying: "NIFTY", fromDay: "2025-11-26").map(\.instrumentToken) == [13_800_001])
            #expect(try await catalog.futures(underlying: "NIFTY", fromDay: "2025-11-01").map(\.tradingsymbol) == ["NIFTY25NOVFUT", "NIFTY25DECFUT"])
            #expect(try await catalog.spotToken(underlying: "NIFTY") == 256_265)
            #expect(try await catalog.spotToken(underlying: "BANKNIFTY") == 260_105, "indices come from IndexSpot even when not loaded")
            #expect(try await catalog.spotToken(underlying: "RELIANCE") == 738_561, "NSE before BSE")
            #expect(try await catalog.spotToken(underlying: "CRUDEOIL") == nil)
        }
    }

    /// A second source that knows one instrument, counting how often it is asked.
    final class TickerStub: InstrumentTokenLookup, @unchecked Sendable {
        let known: Instrument
        let lock = NSLock()
        var asked: [Int64] = []
        init(known: Instrument) { self.known = known }
        func instrument(token: Int64) async throws -> Instrument? {
            lock.withLock { asked.append(token) }
            return token == known.instrumentToken ? known : nil
        }
    }

    @Test("the fallback is asked only for tokens the table lacks; without one a miss is notInCatalog")
    func fallback() async throws {
        try await withCatalog { catalog, _ async throws in
            let outside = Instrument(
                instrumentToken: 99, exchangeToken: 9, tradingsymbol: "NEWLISTING", name: "", expiry: nil, strike: 0, tickSize: 0.05,
                lotSize: 1, instrumentType: "EQ", segment: "NSE", exchange: "NSE", updatedAt: Date(timeIntervalSince1970: 0)
            )
            let ticker = TickerStub(known: outside)
            let withTicker = FallbackInstrumentCatalog(catalog: catalog, fallback: ticker)
            guard case .found(let local) = try await withTicker.resolve(token: 738_561) else { Issue.record("not found"); return }
            #expect(local.tradingsymbol == "RELIANCE")
            #expect(try await withTicker.resolve(token: 99) == .found(outside))
            #expect(try await withTicker.resolve(token: 7) == .unknown)
            #expect(ticker.lock.withLock { ticker.asked } == [99, 7])
            #expect(Set(try await withTicker.instruments(tokens: [738_561, 99, 7]).keys) == [738_561, 99])
            let alone = FallbackInstrumentCatalog(catalog: catalog, fallback: nil)
            #expect(try await alone.resolve(token: 99) == .notInCatalog)
            #expect(try await alone.instrument(token: 99) == nil)
        }
    }

    @Test("encodes as TickerService's GET /instruments/{token} body and reads a ticker's thinner body")
    func coding() throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let thin = try decoder.decode(Instrument.self, from: Data(#"{"instrument_token":5,"tradingsymbol":"X","exchange":"NSE"}"#.utf8))
        #expect(thin.exchange == "NSE")
        #expect(thin.lotSize == 0)
        #expect(thin.updatedAt == Date(timeIntervalSince1970: 0))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(thin), as: UTF8.self)
        #expect(text == #"{"exchange":"NSE","exchange_token":0,"instrument_token":5,"instrument_type":"","lot_size":0,"name":"","segment":"","strike":0,"tick_size":0,"tradingsymbol":"X","updated_at":"1970-01-01T00:00:00Z"}"#)
        #expect(try decoder.decode(Instrument.self, from: Data(text.utf8)) == thin)
    }
}
