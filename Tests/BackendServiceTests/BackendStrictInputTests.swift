import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@testable import BackendService

/// Issue 9, defects 6 and 7 on BackendService: the spec's constraints are the code's, lenient input is refused with a
/// message that quotes at most a prefix of the bad value, and a known path with another method is a 405.
@Suite("BackendService strict input and 405")
struct BackendStrictInputTests {
    typealias Harness = WebhookHardeningTests

    @Test("timeframe= (empty), an unknown exchange, an empty or 10 KB symbol, an empty event_type: 4xx that quote at most a prefix")
    func strictParameters() async throws {
        let (app, world) = try await Harness().makeWorld()
        defer { Task { await world.redis.close() } }
        let huge = String(repeating: "S", count: 10_240)
        try await app.test(.router) { client in
            let cases: [(String, String, String)] = [
                ("/bars?instrument_token=256265&timeframe=", "invalid_parameter", "timeframe is empty"),
                ("/bars?tradingsymbol=INFY&exchange=MOON", "invalid_parameter", "exchange must be one of"),
                ("/bars?tradingsymbol=INFY&exchange=", "invalid_parameter", "exchange is empty"),
                ("/bars?instrument_token=\(huge)", "invalid_parameter", "(10240 characters)"),
                ("/fo/strike-distribution?symbol=", "missing_parameter", "symbol is required"),
                ("/fo/strike-distribution?symbol=\(huge)", "invalid_parameter", "(10240 characters)"),
                ("/fo/strike-distribution?symbol=NIFTY&timeframe=", "invalid_parameter", "timeframe is empty"),
                ("/fo/strike-distribution?symbol=NIFTY&expiries=\(huge)", "invalid_parameter", "(10240 characters)"),
            ]
            for (uri, code, mention) in cases {
                let response: TestResponse = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .badRequest, "\(uri.prefix(80))")
                let json = try Harness.json(response.body)
                let message = json["message"] as? String ?? ""
                #expect(json["error"] as? String == code, "\(uri.prefix(80)): \(json)")
                #expect(message.contains(mention), "\(uri.prefix(80)): \(message.prefix(300))")
                #expect(message.count < 300, "\(uri.prefix(80)): \(message.count) characters")
            }
            // A space encoded as `+` (as forms and schemathesis send it) is a space: a valid name, unknown here, so 404.
            let plus: TestResponse = try await client.execute(uri: "/fo/strike-distribution?symbol=NIFTY+50", method: .get)
            #expect(plus.status == .notFound)
            #expect(try Harness.json(plus.body)["error"] as? String == "unknown_symbol")
            for eventType in ["", huge] {
                let body = #"{"event_type":"\#(eventType)","instrument_token":256265,"timestamp":1}"#
                let response: TestResponse = try await client.execute(uri: Harness.webhook, method: .post, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent)
                let json = try Harness.json(response.body)
                #expect(json["error"] as? String == "unknown_event_type")
                #expect(json["field"] as? String == "event_type")
                #expect((json["message"] as? String)?.contains("subscription_created") == true)
                #expect((json["message"] as? String ?? "").count < 400)
            }
        }
    }

    @Test("a known path with another method is 405 with Allow and the JSON error body; an unknown path is a JSON 404")
    func methodNotAllowed() async throws {
        let (app, world) = try await Harness().makeWorld(["API_KEY_ENABLED": "true", "API_KEY": "k"])
        defer { Task { await world.redis.close() } }
        try await app.test(.router) { client in
            for (uri, method, allow) in [
                (Harness.webhook, HTTPRequest.Method.get, "POST"), ("/bars", .post, "GET"), ("/fo/strike-distribution", .delete, "GET"), ("/health", .put, "GET"),
            ] {
                let response: TestResponse = try await client.execute(uri: uri, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                #expect(response.headers[.contentType] == "application/json")
                let json = try Harness.json(response.body)
                #expect(json["error"] as? String == "method_not_allowed")
                #expect((json["message"] as? String)?.contains("allowed: \(allow)") == true)
            }
            let response: TestResponse = try await client.execute(uri: "/no/such/path", method: .get)
            #expect(response.status == .notFound)
            #expect(try Harness.json(response.body)["error"] as? String == "not_found")
        }
    }
}
