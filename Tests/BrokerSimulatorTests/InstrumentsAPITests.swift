import BrokerWire
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BrokerSimulator

@Suite("Instruments dump API")
struct InstrumentsAPITests {
    func app() -> some ApplicationProtocol {
        let router = Router()
        router.addRoutes(InstrumentsController(universe: MarketFixture.universe).endpoints)
        return Application(router: router)
    }

    @Test func servesTheWholeDumpAsCSV() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/instruments", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/csv")
                #expect(response.headers[.contentEncoding] == nil)
                let rows = try KiteInstrumentCSV.parse(Array(buffer: response.body))
                #expect(rows == MarketFixture.universe.instruments)
            }
        }
    }

    @Test func gzipsWhenAskedAndDecompressesToTheSameBytes() async throws {
        try await app().test(.router) { client in
            let plain = try await client.execute(uri: "/instruments", method: .get) { $0.body }
            try await client.execute(uri: "/instruments", method: .get, headers: [.acceptEncoding: "gzip, deflate"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentEncoding] == "gzip")
                var compressed = response.body
                #expect(compressed.readableBytes < plain.readableBytes / 4)
                let inflated = try compressed.decompress(with: .gzip())
                #expect(inflated == plain)
            }
        }
    }

    @Test func filtersByExchange() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/instruments/NFO", method: .get) { response in
                let rows = try KiteInstrumentCSV.parse(Array(buffer: response.body))
                #expect(!rows.isEmpty && rows.allSatisfy { $0.exchange == "NFO" })
                #expect(rows == MarketFixture.universe.instruments(exchange: "NFO"))
            }
            try await client.execute(uri: "/instruments/mcx", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
                var body = response.body
                let rows = try KiteInstrumentCSV.parse(Array(buffer: try body.decompress(with: .gzip())))
                #expect(!rows.isEmpty && rows.allSatisfy { $0.exchange == "MCX" })
            }
            try await client.execute(uri: "/instruments/XYZ", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains(#""error_type":"InputException""#))
            }
        }
    }

    @Test func readsAcceptEncoding() {
        #expect(InstrumentsController<BasicRequestContext>.acceptsGzip(["gzip"]))
        #expect(InstrumentsController<BasicRequestContext>.acceptsGzip(["br;q=1.0, gzip;q=0.8"]))
        #expect(!InstrumentsController<BasicRequestContext>.acceptsGzip(["gzip;q=0"]))
        #expect(!InstrumentsController<BasicRequestContext>.acceptsGzip(["identity"]))
        #expect(!InstrumentsController<BasicRequestContext>.acceptsGzip([]))
    }
}

@Suite("Simulator credentials")
struct SimulatorCredentialsTests {
    @Test func parsesAndChecks() throws {
        let credentials = try SimulatorCredentials.parse("k1:t1, k2:t2")
        #expect(credentials.isValid(apiKey: "k1", accessToken: "t1"))
        #expect(!credentials.isValid(apiKey: "k1", accessToken: "t2"))
        #expect(credentials.isValid(authorizationHeader: "token k2:t2") == "k2")
        #expect(credentials.isValid(authorizationHeader: "token k2:t1") == nil)
        #expect(credentials.isValid(authorizationHeader: nil) == nil)
        #expect(SimulatorCredentials.default.isValid(apiKey: "sim_api_key_3", accessToken: "sim_access_token_3"))
        #expect(throws: CredentialsSpecError.self) { try SimulatorCredentials.parse("nocolon") }
        #expect(throws: CredentialsSpecError.self) { try SimulatorCredentials.parse("") }
        #expect(throws: CredentialsSpecError.self) { try SimulatorCredentials.parse("a:b,a:c") }
    }
}
