import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@testable import TickerService

/// Issue 9, defects 6 and 7 on TickerService: input the service used to take leniently is refused with a clear 4xx
/// whose message quotes at most a short prefix of the bad value, and a known path with another method is a 405.
@Suite("TickerService strict input and 405")
struct StrictInputTests {
    private func expectError(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ code: String, mentions: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        let body = try TestJSON.object(response.body)
        #expect(body["status"] as? String == "error", sourceLocation: sourceLocation)
        #expect(body["error"] as? String == code, sourceLocation: sourceLocation)
        let message = body["message"] as? String ?? ""
        #expect(message.contains(mentions), "message '\(message.prefix(300))' should mention '\(mentions)'", sourceLocation: sourceLocation)
        #expect(message.count < 300, "message is \(message.count) characters", sourceLocation: sourceLocation)
    }

    @Test("a string instrument_token, both forms in one body, and 10 KB values get a 422 that quotes only a prefix; nothing changes")
    func lenientBodiesAreRefused() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            // Was accepted (201) as if it were the number.
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": "13660418"]), .unprocessableContent, "invalid_token",
                mentions: "must be a JSON number"
            )
            try expectError(
                try await client.post("/subscriptions", json: ["instruments": [["instrument_token": "256265"]]]), .unprocessableContent, "invalid_token",
                mentions: "instruments[0].instrument_token"
            )
            // Was a batch that silently ignored instrument_token.
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "instruments": [["instrument_token": 256_265]]]),
                .unprocessableContent, "invalid_request", mentions: "not both"
            )
            let huge = String(repeating: "X", count: 10_240)
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "requested_mode": huge]), .unprocessableContent,
                "invalid_mode", mentions: "(10240 characters)"
            )
            try expectError(try await client.send("/subscriptions/\(huge)", .delete), .badRequest, "invalid_token", mentions: "(10240 characters)")
            try expectError(try await client.send("/subscriptions?status=\(huge)", .get), .badRequest, "invalid_status", mentions: "(10240 characters)")
            // The spec's HolderName (minLength 1): an empty holder is refused, as documented.
            try expectError(try await client.send("/subscriptions/13660418?holder=", .delete), .unprocessableContent, "invalid_holder", mentions: "empty")
            // Were taken as the defaults (Schemathesis found the first): null is not a string; leave a field out for its default.
            try expectError(
                try await client.post("/subscriptions", json: ["instruments": [["instrument_token": 13_660_418]], "holder": NSNull()]),
                .unprocessableContent, "invalid_holder", mentions: "leave it out"
            )
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "requested_mode": NSNull()]),
                .unprocessableContent, "invalid_mode", mentions: "leave it out"
            )
            // account_id (a pin): a non-empty string of at most 64 characters, not null (Schemathesis found null).
            for bad in [NSNull(), "" as Any, 7 as Any, String(repeating: "a", count: 65) as Any] {
                try expectError(
                    try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "account_id": bad]), .unprocessableContent,
                    "invalid_account", mentions: "account_id"
                )
            }
            try expectError(
                try await client.post("/subscriptions", json: ["instruments": [["instrument_token": 13_660_418, "account_id": NSNull()]]]),
                .unprocessableContent, "invalid_account", mentions: "instruments[0].account_id"
            )
        }
        #expect(await feed.subscribeCalls.isEmpty)
        #expect(try await fixture.outboxCount() == 0)
    }

    @Test("a known path with another method is 405 with Allow and the JSON error body; an unknown path is a JSON 404")
    func methodNotAllowed() async throws {
        let fixture = try await TickerFixture.make(apiKey: "s3cret-key")
        defer { Task { await fixture.close() } }
        let app = try await fixture.app(feed: RecordingFeed(), restore: false)
        try await app.test(.router) { client in
            var response = try await client.send("/subscriptions", .put)
            try expectError(response, .methodNotAllowed, "method_not_allowed", mentions: "allowed: GET, POST")
            #expect(response.headers[.allow] == "GET, POST")
            response = try await client.send("/subscriptions/150", .post)
            try expectError(response, .methodNotAllowed, "method_not_allowed", mentions: "allowed: DELETE, GET")
            #expect(response.headers[.allow] == "DELETE, GET")
            response = try await client.send("/health", .delete)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET")
            try expectError(try await client.send("/no/such/path", .get), .notFound, "not_found", mentions: "/no/such/path")
        }
    }
}
