import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// `POST /internal/subscription-events`: seed 002's webhook. Body: a subscription event in any accepted spelling
/// (`created`/`deleted`/`removed`, ISO or epoch `timestamp`). Answers `{"status":"ok","message":"Event created processed",
/// "instrument_token":N}`; 400 for a body that is not JSON, 422 for one that is not a subscription event, 503 when
/// events are disabled or the work could not be committed (retry).
struct SubscriptionEventsController<Context: RequestContext>: Sendable {
    let intake: SubscriptionEventIntake
    let enabled: Bool

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("internal/subscription-events") { request, context in
            try await receive(request, context: context)
        }
        return routes
    }

    func receive(_ request: Request, context: Context) async throws -> Response {
        guard enabled else {
            return Self.json(.serviceUnavailable, [
                "status": "error", "error": "events_disabled",
                "message": "subscription events are disabled on this BackendService (SUBSCRIPTION_EVENTS_ENABLED=false)",
            ])
        }
        let buffer = try await request.body.collect(upTo: 256 * 1024)
        let payload = String(buffer: buffer)
        let rawType = ((try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any])?["event_type"] as? String
        switch await intake.accept(payload: payload, source: EventBackfillMetrics.Source.webhook) {
        case .done(let outcome):
            let event = try? SubscriptionEventCodec.decode(payload)
            return Self.json(.ok, [
                "status": "ok",
                "message": "Event \(rawType ?? event?.kind.rawValue ?? "") processed",
                "instrument_token": event?.instrumentToken ?? 0,
                "event_id": event?.eventID ?? "",
                "duplicate": outcome == .duplicate,
            ])
        case .malformed(let error):
            let status: HTTPResponse.Status = error.code == .malformedJSON ? .badRequest : .unprocessableContent
            var body: [String: Any] = ["status": "error", "error": error.code.description, "message": error.message]
            if let field = error.field { body["field"] = field }
            return Self.json(status, body)
        case .failed(let error):
            return Self.json(.serviceUnavailable, [
                "status": "error", "error": "processing_failed", "message": "the event could not be recorded, retry: \(error)",
            ])
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
