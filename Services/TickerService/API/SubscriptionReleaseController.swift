import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime
import SharedBasics

/// `POST /subscriptions/release` `{"holder":"user:42","instrument_tokens":[...]}`: one holder lets go of many
/// instruments at once (BackendService's watchlist removal and end-of-day cleanup). Answers
/// `{"holder","released":[...],"removed":[...],"not_held":[...]}`; `removed` are those that left the feed.
struct SubscriptionReleaseController<Context: RequestContext>: Sendable {
    let manager: SubscriptionManager
    /// `X-API-Key`, nil when `API_KEY_ENABLED` is off.
    let apiKey: String?
    /// Most tokens one call may release (a whole 25,000 cap of one holder).
    static var maxTokens: Int { 25_000 }

    struct Body: Decodable, Sendable {
        var holder: String
        var instrumentTokens: [Int64]

        enum CodingKeys: String, CodingKey {
            case holder
            case instrumentTokens = "instrument_tokens"
        }
    }

    struct Answer: JSONResponseBody, Sendable {
        var holder: String
        var released: [Int64]
        var removed: [Int64]
        var notHeld: [Int64]

        enum CodingKeys: String, CodingKey {
            case holder, released, removed
            case notHeld = "not_held"
        }
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>.apiKey(apiKey))
        routes.post("subscriptions/release", use: release)
        return routes
    }

    @Sendable func release(_ request: Request, context: Context) async throws -> Answer {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: 1 << 20)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than 1 MiB")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes.readableBytesView))
        } catch {
            TickerMetrics.request("release", outcome: "client_error")
            throw APIError(
                .unprocessableContent, "invalid_request",
                "the body must be {\"holder\": string, \"instrument_tokens\": [positive integers]}"
            )
        }
        let holder = try SubscriptionRequestParser.holder(body.holder)
        guard body.instrumentTokens.count <= Self.maxTokens else {
            throw APIError(.unprocessableContent, "too_many_instruments", "at most \(Self.maxTokens) instrument_tokens per call, not \(body.instrumentTokens.count)")
        }
        if let bad = body.instrumentTokens.first(where: { $0 <= 0 || $0 > Int64(UInt32.max) }) {
            throw APIError(.unprocessableContent, "invalid_token", "\(bad) is not an instrument token (a positive integer up to \(UInt32.max))")
        }
        let result: SubscriptionManager.ReleaseResult
        do {
            result = try await manager.release(body.instrumentTokens, holder: holder)
        } catch {
            TickerMetrics.request("release", outcome: SubscriptionsController<Context>.outcome(error))
            throw APIError(error)
        }
        TickerMetrics.request("release", outcome: result.released.isEmpty ? "unchanged" : "released")
        await manager.updateActiveGauge()
        return Answer(holder: holder, released: result.released, removed: result.removed, notHeld: result.notHeld)
    }
}
