import HTTPTypes
import Hummingbird
import ServiceRuntime
import SharedInstruments

/// `GET /instruments/{token}`: the cached broker metadata of one instrument, from the shared catalog.
struct InstrumentsController<Context: RequestContext>: Sendable {
    let catalog: any InstrumentCatalog

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("instruments/:token", use: show)
        return routes
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Instrument {
        let token = try SubscriptionRequestParser.token(context.parameters.get("token"))
        let record: Instrument?
        do {
            record = try await catalog.instrument(token: token)
        } catch {
            throw APIError(.serviceUnavailable, "storage_unavailable", "could not read the instrument registry: \(error)")
        }
        guard let record else {
            throw APIError(.notFound, "unknown_instrument", "instrument \(token) is not in the instrument registry")
        }
        return record
    }
}

extension Instrument: JSONResponseBody {}
