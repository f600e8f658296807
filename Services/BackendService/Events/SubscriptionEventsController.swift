import HTTPTypes
import Hummingbird
import NIOCore
import ServiceRuntime
import Shared

/// `POST /internal/subscription-events`: seed 002's webhook. Body: a subscription event in any accepted spelling
/// (`created`/`deleted`/`removed`, ISO or epoch `timestamp`). Answers `{"status":"ok","message":"Event created processed",
/// "instrument_token":N}`; 400 for a body that is not JSON, 422 for one that is not a subscription event, 503 when
/// events are disabled or the work could not be committed (retry). Errors are ``APIError`` bodies, with `field` when one
/// field of the event is at fault.
///
/// With `API_KEY_ENABLED` on it requires `X-API-Key` (the API key) or `X-Webhook-Secret` (`WEBHOOK_SECRET`): 401 otherwise.
struct SubscriptionEventsController<Context: RequestContext>: Sendable {
    /// The header that carries `WEBHOOK_SECRET`.
    static var secretHeader: HTTPField.Name { HTTPField.Name("X-Webhook-Secret")! }
    /// Largest body accepted; an event is a few hundred bytes.
    static var maxBodyBytes: Int { 64 * 1024 }

    let intake: SubscriptionEventIntake
    let enabled: Bool
    /// What the webhook accepts as authentication; empty: open (`API_KEY_ENABLED` off).
    var credentials: [RequestCredential] = []

    /// The answer to an event handled (or recognised as handled before).
    struct Accepted: JSONResponseBody, Sendable {
        var status = "ok"
        /// `Event created processed`, with `event_type` as it was sent.
        var message: String
        var instrumentToken: Int64
        var eventID: String
        var duplicate: Bool

        enum CodingKeys: String, CodingKey {
            case status, message, duplicate
            case instrumentToken = "instrument_token"
            case eventID = "event_id"
        }
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequestKeyMiddleware<Context>(credentials: credentials))
        routes.post("internal/subscription-events") { request, context in
            try await receive(request, context: context)
        }
        return routes
    }

    /// Errors are returned, not thrown, as they always were: a refused event is an answer, not a failure of the
    /// request (`hb.request.errors` counts only thrown errors).
    func receive(_ request: Request, context: Context) async throws -> Response {
        guard enabled else {
            return try APIError(
                .serviceUnavailable, "events_disabled",
                "subscription events are disabled on this BackendService (SUBSCRIPTION_EVENTS_ENABLED=false)"
            ).response(from: request, context: context)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            return try APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(Self.maxBodyBytes) bytes; an event is a small JSON object")
                .response(from: request, context: context)
        }
        let payload = String(buffer: buffer)
        let source = EventBackfillMetrics.Source.webhook
        // Decoded once: the event, and how its kind was spelled for the answer's message.
        let decoded: (event: SubscriptionEvent, eventType: String)
        do {
            decoded = try SubscriptionEventCodec.decodeSpelled(Array(payload.utf8))
        } catch {
            _ = await intake.reject(payload: payload, error, source: source)
            return try Self.refusal(error).response(from: request, context: context)
        }
        switch await intake.accept(decoded.event, source: source) {
        case .done(let outcome):
            let accepted = Accepted(
                message: "Event \(decoded.eventType) processed", instrumentToken: decoded.event.instrumentToken,
                eventID: decoded.event.eventID, duplicate: outcome == .duplicate
            )
            return try accepted.response(from: request, context: context)
        case .malformed(let error):
            return try Self.refusal(error).response(from: request, context: context)
        case .failed(let error):
            return try APIError(.serviceUnavailable, "processing_failed", "the event could not be recorded, retry: \(error)")
                .response(from: request, context: context)
        }
    }

    /// 400 for a body that is not JSON, 422 for JSON that is not a subscription event; `field` names the field at fault.
    static func refusal(_ error: SubscriptionEventError) -> APIError {
        APIError(error.code == .malformedJSON ? .badRequest : .unprocessableContent, APIError.Code(error.code.description), error.message, field: error.field)
    }
}
