import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Shared
import SharedRedis
import Testing
import TestSupport

@testable import BackendService

/// Issue 9, defect 1 on BackendService: the webhook is authenticated when `API_KEY_ENABLED` is on, its dead letters are
/// bounded and identical rejections counted rather than stored again, and a 413 has the JSON error body (defect 7).
/// ``makeWorld(_:)`` builds the whole service for ``BackendStrictInputTests`` too.
@Suite("BackendService webhook hardening")
struct WebhookHardeningTests {
    struct World {
        let redis: RedisClient
        let channels: EventChannels
    }

    /// The whole service (every route and middleware), with its own Redis prefix; TickerService and the broker are unreachable.
    func makeWorld(_ settings: [String: String] = [:]) async throws -> (app: some ApplicationProtocol, world: World) {
        let redisServer = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        let prefix = "harden\(UUID().uuidString.prefix(8))"
        var configuration = ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"])
        configuration["ENVIRONMENT"] = "test"
        configuration["REDIS_CHANNEL_PREFIX"] = prefix
        configuration["BACKFILL_IMMEDIATE_ON_SUBSCRIBE"] = "false"
        configuration["BACKFILL_SUBSCRIPTION_AWARE"] = "false"
        configuration["TICK_BARS_ENABLED"] = "false"
        configuration.merge(settings) { _, new in new }
        let app = try await buildApplication(TestArguments(redisURL: redisServer.url, databaseURL: database), configuration: configuration)
        var logger = Logger(label: "tests.harden")
        logger.logLevel = .warning
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisServer.url), logger: logger)
        return (app, World(redis: redis, channels: EventChannels(prefix: prefix)))
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    func deadLetters(_ world: World) async throws -> [[String: String]] {
        let reply = try await world.redis.send(["XRANGE", world.channels.eventsDeadLetterStream, "-", "+"])
        return (reply.array ?? []).compactMap { raw -> [String: String]? in
            guard let pair = raw.array, pair.count == 2, let list = pair[1].array else { return nil }
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < list.count {
                fields[list[index].string ?? ""] = list[index + 1].string ?? ""
                index += 2
            }
            return fields
        }
    }

    static let webhook = "/internal/subscription-events"
    static let seedBody = #"{"event_type":"created","instrument_token":256265,"tradingsymbol":"NIFTY 50","timestamp":"2025-11-20T09:15:00+05:30"}"#

    @Test("with API_KEY_ENABLED the webhook needs X-API-Key or X-Webhook-Secret (401 otherwise); the seed body then works")
    func webhookNeedsAKey() async throws {
        let (app, world) = try await makeWorld(["API_KEY_ENABLED": "true", "API_KEY": "the-api-key", "WEBHOOK_SECRET": "the-webhook-secret"])
        defer { Task { await world.redis.close() } }
        try await app.test(.router) { client in
            var response: TestResponse = try await client.execute(uri: Self.webhook, method: .post, body: ByteBuffer(string: Self.seedBody))
            #expect(response.status == .unauthorized)
            var json = try Self.json(response.body)
            #expect(json["error"] as? String == "unauthorized")
            #expect((json["message"] as? String)?.contains("X-API-Key or X-Webhook-Secret") == true, "\(json)")
            response = try await client.execute(
                uri: Self.webhook, method: .post, headers: [HTTPField.Name("X-API-Key")!: "wrong"], body: ByteBuffer(string: Self.seedBody)
            )
            #expect(response.status == .unauthorized)
            json = try Self.json(response.body)
            #expect(!((json["message"] as? String) ?? "").contains("the-api-key"), "the secret is never echoed")
            response = try await client.execute(
                uri: Self.webhook, method: .post, headers: [HTTPField.Name("X-Webhook-Secret")!: "the-api-key"], body: ByteBuffer(string: Self.seedBody)
            )
            #expect(response.status == .unauthorized, "each secret only in its own header")
            response = try await client.execute(
                uri: Self.webhook, method: .post, headers: [HTTPField.Name("X-API-Key")!: "the-api-key"], body: ByteBuffer(string: Self.seedBody)
            )
            #expect(response.status == .ok)
            #expect(try Self.json(response.body)["message"] as? String == "Event created processed")
            response = try await client.execute(
                uri: Self.webhook, method: .post, headers: [HTTPField.Name("X-Webhook-Secret")!: "the-webhook-secret"],
                body: ByteBuffer(string: Self.seedBody)
            )
            #expect(response.status == .ok)
            #expect(try Self.json(response.body)["duplicate"] as? Bool == true)
        }
        // Refused before being read: nothing was dead-lettered.
        #expect(try await deadLetters(world).isEmpty)
    }

    @Test("a refused 50 KB body is dead-lettered as a 2 KB prefix with its length and SHA-256; 20 identical ones make one dead letter")
    func deadLettersAreBounded() async throws {
        let (app, world) = try await makeWorld()
        defer { Task { await world.redis.close() } }
        let padding = String(repeating: "p", count: 50_000)
        let body = #"{"event_type":"created","timestamp":1,"padding":"\#(padding)"}"#
        try await app.test(.router) { client in
            for _ in 0..<20 {
                let response: TestResponse = try await client.execute(uri: Self.webhook, method: .post, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent)
                #expect(try Self.json(response.body)["error"] as? String == "missing_field")
            }
        }
        let letters = try await deadLetters(world)
        #expect(letters.count == 1, "identical rejections are counted, not stored again: \(letters.count) dead letters")
        let letter = try #require(letters.first)
        #expect(letter["payload"]?.utf8.count ?? .max <= 2_048)
        #expect(letter["payload"].map { body.hasPrefix($0) } == true)
        #expect(letter["payload_bytes"] == "50051")
        // sha256 of the body, from Python's hashlib (ExcerptAndHashTests checks SHA256 on the FIPS vectors).
        #expect(letter["payload_sha256"] == "9fc39201253d36d53fac441776f1858e158aaa2763638d1520043039c0b6019f")
        #expect(letter["payload_truncated"] == "true")
        #expect(letter["code"] == "missing_field")
        let stored = letter.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        #expect(stored <= 3_492, "\(stored) bytes stored (DeadLetterWriter.maxEntryBytes)")
    }

    @Test("a body over 64 KB gets 413 with the JSON error body")
    func tooLargeHasAJSONBody() async throws {
        let (app, world) = try await makeWorld()
        defer { Task { await world.redis.close() } }
        try await app.test(.router) { client in
            let response: TestResponse = try await client.execute(
                uri: Self.webhook, method: .post, body: ByteBuffer(string: String(repeating: "x", count: 300 * 1024))
            )
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == "application/json")
            let json = try Self.json(response.body)
            #expect(json["error"] as? String == "body_too_large")
        }
        #expect(try await deadLetters(world).isEmpty)
    }
}
