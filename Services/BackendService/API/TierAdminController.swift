import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime
import SharedJSON
import SharedPostgres

/// `POST /api/v2/admin/rebalance`, `/api/v2/admin/eod-cleanup`, `/api/v2/admin/clear-watchlists` (seed 004). All need
/// `X-API-Key` when `API_KEY_ENABLED` is on.
struct TierAdminController<Context: RequestContext>: Sendable {
    let tiers: TierManager
    let watchlists: WatchlistService
    let eod: EODCleanup
    /// What a change must present (``BackendConfiguration/apiCredentials``).
    let credentials: [RequestCredential]
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>(credentials: credentials))
        routes.post("api/v2/admin/rebalance", use: rebalance)
        routes.post("api/v2/admin/eod-cleanup", use: eodCleanup)
        routes.post("api/v2/admin/clear-watchlists", use: clearWatchlists)
        return routes
    }

    /// TickerService's rebalance, answered as TickerService answered it; each move goes into the audit log.
    @Sendable func rebalance(_ request: Request, context: Context) async throws -> Response {
        let answer: (status: Int, body: String)
        do {
            answer = try await tiers.ticker.rebalance()
        } catch {
            throw APIError(.serviceUnavailable, "ticker_unavailable", "TickerService could not be asked to rebalance: \(error)")
        }
        if (200..<300).contains(answer.status), case .array(let moves)? = TickerClient.jsonObject(answer.body)?["moves"] {
            let entries = moves.compactMap { move -> SubscriptionLogEntry? in
                guard let token = TickerClient.int64(move["instrument_token"]) else { return nil }
                let from = Self.connectionName(move["from"])
                let to = Self.connectionName(move["to"])
                return SubscriptionLogEntry(instrumentToken: token, action: .rebalance, holder: nil, tier: nil, reason: "moved from \(from) to \(to)", actor: "admin")
            }
            do {
                try await tiers.store.postgres.transaction { connection in try await tiers.store.log(connection, entries) }
            } catch {
                logger.error("rebalance moves not written to the audit log", metadata: [LogKey.instruments: "\(entries.count)", LogKey.error: "\(error)"])
            }
        }
        let status = HTTPResponse.Status(code: answer.status)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }

    @Sendable func eodCleanup(_ request: Request, context: Context) async throws -> EODCleanupBody {
        try await eod.run(day: EODCleanupService.today(), trigger: "api", force: true)
    }

    @Sendable func clearWatchlists(_ request: Request, context: Context) async throws -> ClearWatchlistsBody {
        ClearWatchlistsBody(entriesRemoved: try await watchlists.clearAll(actor: "admin", reason: "watchlists cleared by an admin"))
    }

    static func connectionName(_ value: JSONValue?) -> String {
        guard let value else { return "?" }
        let account = value["account_id"]?.stringValue ?? "?"
        let connection = TickerClient.int64(value["connection_id"]).map(String.init) ?? "?"
        return "\(account)#\(connection)"
    }
}
