import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime
import Shared
import SharedBasics
import TickerAPIModel

/// `POST /subscriptions`, `DELETE /subscriptions/{token}`, `GET /subscriptions`, `GET /subscriptions/{token}`.
struct SubscriptionsController<Context: RequestContext>: Sendable {
    let manager: SubscriptionManager
    /// `X-API-Key` for changing requests, nil when `API_KEY_ENABLED` is off.
    let apiKey: String?
    /// Largest request body accepted (a 5,000-instrument batch is about 300 KB).
    var maxBodyBytes = 4 << 20

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>.apiKey(apiKey, openMethods: [.get, .head]))
        routes.post("subscriptions", use: create)
        routes.get("subscriptions", use: list)
        routes.get("subscriptions/:token", use: show)
        routes.delete("subscriptions/:token", use: remove)
        return routes
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(maxBodyBytes) bytes")
        }
        let parsed: SubscriptionRequestParser.Parsed
        do {
            parsed = try SubscriptionRequestParser.parse(Array(bytes.readableBytesView))
        } catch {
            TickerMetrics.request("subscribe", outcome: "client_error")
            throw error
        }
        let result: SubscriptionManager.SubscribeResult
        do {
            result = try await manager.subscribe(parsed.items, holder: parsed.holder)
        } catch {
            TickerMetrics.request("subscribe", outcome: Self.outcome(error))
            throw APIError(error)
        }
        TickerMetrics.request("subscribe", outcome: result.created.isEmpty ? "updated" : "created")
        await manager.updateActiveGauge()
        let status: HTTPResponse.Status = result.created.isEmpty ? .ok : .created
        if parsed.isBatch {
            return try APIJSON.response(
                SubscriptionBatchJSON(
                    subscriptions: result.subscriptions, count: result.subscriptions.count,
                    created: result.subscriptions.map(\.instrumentToken).filter(result.created.contains)
                ),
                status: status
            )
        }
        guard let record = result.subscriptions.first else {
            throw APIError(.internalServerError, "internal_error", "the subscription was stored but could not be read back")
        }
        return try APIJSON.response(record, status: status)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let status = request.uri.queryParameters.get("status") ?? "active"
        guard status == "active" || status == "all" else {
            throw APIError(.badRequest, "invalid_status", "status must be 'active' or 'all', not \(Excerpt.quoted(status))")
        }
        let page = try SubscriptionPageRequest(query: request.uri.queryParameters)
        let body: ByteBuffer
        let key = SubscriptionListCache.Key(activeOnly: status == "active", after: page?.after, limit: page?.limit)
        do {
            body = try await manager.listCache.body(for: key) {
                guard let page else { return SubscriptionListWriter.body(try await manager.list(activeOnly: key.activeOnly)) }
                // One more than asked tells whether another page follows.
                var records = try await manager.list(activeOnly: key.activeOnly, after: page.after, limit: page.limit + 1)
                let more = records.count > page.limit
                if more { records.removeLast(records.count - page.limit) }
                let next = more ? records.last.map { SubscriptionPageRequest.cursor(after: $0.instrumentToken) } : nil
                return SubscriptionListWriter.body(records, extent: .page(nextCursor: next))
            }
        } catch let error as SubscriptionError {
            throw APIError(error)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> SubscriptionRecord {
        let token = try SubscriptionRequestParser.token(context.parameters.get("token"))
        let record: SubscriptionRecord?
        do {
            record = try await manager.subscription(token: token)
        } catch {
            throw APIError(error)
        }
        guard let record else { throw APIError(.notFound, "not_subscribed", "instrument \(token) has never been subscribed") }
        return record
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> SubscriptionRecord {
        let token: Int64
        let removal: SubscriptionManager.Removal
        do {
            token = try SubscriptionRequestParser.token(context.parameters.get("token"))
            let all = request.uri.queryParameters.get("all")
            switch all?.lowercased() {
            case nil, "false", "0": removal = .holder(try SubscriptionRequestParser.holder(request.uri.queryParameters.get("holder")))
            case "true", "1": removal = .all
            default: throw APIError(.badRequest, "invalid_request", "all must be true or false, not \(Excerpt.quoted(all ?? ""))")
            }
        } catch {
            TickerMetrics.request("unsubscribe", outcome: "client_error")
            throw error
        }
        let record: SubscriptionRecord
        do {
            record = try await manager.unsubscribe(token: token, removal: removal)
        } catch {
            TickerMetrics.request("unsubscribe", outcome: Self.outcome(error))
            throw APIError(error)
        }
        TickerMetrics.request("unsubscribe", outcome: record.status == .inactive ? "removed" : "updated")
        await manager.updateActiveGauge()
        return record
    }

    static func outcome(_ error: SubscriptionError) -> String {
        switch error.code {
        case .capacityExhausted: "capacity_exhausted"
        case .unknownInstrument, .notSubscribed, .holderNotFound, .accountUnavailable, .unknownAccount, .unplaceable: "client_error"
        default: "failed"
        }
    }
}
