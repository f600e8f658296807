import NIOHTTP1
import AsyncHTTPClient
import BrokerWire
import NIOCore

/// Why the instrument dump could not be had.
struct InstrumentDumpError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        static let unreachable = Code(name: "unreachable")
        static let httpStatus = Code(name: "httpStatus")
        static let malformed = Code(name: "malformed")
        static let empty = Code(name: "empty")
        var description: String { name }
    }

    var code: Code
    var message: String
    var description: String { message }
}

/// Downloads the broker's instruments dump (`GET {brokerURL}/instruments`, Kite's CSV).
struct InstrumentDumpClient: Sendable {
    /// The broker's REST base URL, without a trailing slash.
    let brokerURL: String
    let httpClient: HTTPClient
    /// Limit for the whole download.
    var timeout: TimeAmount = .seconds(120)
    /// The largest body accepted (Kite's full dump is about 10 MB).
    var maxBytes = 256 << 20

    /// Fetches and parses the dump.
    func fetch() async throws(InstrumentDumpError) -> [KiteInstrument] {
        let url = "\(brokerURL)/instruments"
        let body: ByteBuffer
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            request.headers.add(name: "X-Kite-Version", value: "3")
            let response = try await httpClient.execute(request, timeout: timeout)
            guard response.status == .ok else {
                throw InstrumentDumpError(code: .httpStatus, message: "GET \(url) answered \(response.status.code) \(response.status.reasonPhrase)")
            }
            body = try await response.body.collect(upTo: maxBytes)
        } catch let error as InstrumentDumpError {
            throw error
        } catch {
            throw InstrumentDumpError(code: .unreachable, message: "GET \(url) failed: \(error)")
        }
        let instruments: [KiteInstrument]
        do {
            instruments = try KiteInstrumentCSV.parse(body.readableBytesView)
        } catch {
            throw InstrumentDumpError(code: .malformed, message: "GET \(url): the instruments CSV is not Kite's: \(error)")
        }
        guard !instruments.isEmpty else {
            throw InstrumentDumpError(code: .empty, message: "GET \(url) returned no instruments")
        }
        return instruments
    }
}
