import BrokerWire
import Foundation
import Hummingbird

/// Kite's instruments dump: `GET /instruments` and `GET /instruments/{exchange}` (CSV, gzip when accepted).
struct InstrumentsController<Context: RequestContext>: Sendable {
    static var knownExchanges: Set<String> { ["NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX"] }

    let dump: InstrumentDump

    init(universe: InstrumentUniverse) {
        dump = InstrumentDump(universe: universe)
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("instruments") { request, _ in
            try respond(exchange: "", request: request)
        }
        routes.get("instruments/:exchange") { request, context in
            let exchange = context.parameters.get("exchange") ?? ""
            guard Self.knownExchanges.contains(exchange.uppercased()) else {
                throw KiteAPIError(.input, "Invalid exchange: \(exchange)")
            }
            return try respond(exchange: exchange, request: request)
        }
        return routes
    }

    private func respond(exchange: String, request: Request) throws -> Response {
        let body = try dump.body(exchange: exchange)
        var headers: HTTPFields = [.contentType: "text/csv"]
        if Self.acceptsGzip(request.headers[values: .acceptEncoding]) {
            headers[.contentEncoding] = "gzip"
            headers[.contentLength] = String(body.gzip.readableBytes)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body.gzip))
        }
        headers[.contentLength] = String(body.csv.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body.csv))
    }

    /// Whether `Accept-Encoding` lists gzip (or `*`) without `q=0`.
    static func acceptsGzip(_ values: [String]) -> Bool {
        for value in values {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
                let zero = parts.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" || $0.hasPrefix("q=0.0") && Double($0.dropFirst(2)) == 0 }
                if !zero { return true }
            }
        }
        return false
    }
}
