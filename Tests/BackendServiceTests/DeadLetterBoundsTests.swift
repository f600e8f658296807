import Foundation
import Logging
import Shared
import SharedRedis
import Testing

@testable import BackendService

/// Issue 9, defect 1: the pieces that bound what a refused payload costs, and the webhook's configuration.
@Suite("Dead-letter bounds and webhook configuration")
struct DeadLetterBoundsTests {
    @Test("API_KEY_ENABLED without API_KEY or WEBHOOK_SECRET does not start")
    func keyRequiredWhenEnabled() async throws {
        let source = try ConfigSource(environment: ["ENVIRONMENT": "test", "API_KEY_ENABLED": "true"], dotEnvPath: nil)
        #expect(throws: ConfigError.self) { try BackendConfiguration(source: source) }
        let secretOnly = try ConfigSource(environment: ["ENVIRONMENT": "test", "API_KEY_ENABLED": "true", "WEBHOOK_SECRET": "s"], dotEnvPath: nil)
        let (config, printable) = try BackendConfiguration.load(source: secretOnly)
        #expect(config.webhookCredentials.map(\.header.rawName) == ["X-Webhook-Secret"])
        #expect(printable.first { $0.key == "WEBHOOK_SECRET" }?.value == "***")
        // Dev and test default to off: the seeds' webhook calls keep working without a key.
        #expect(try BackendConfiguration(source: try ConfigSource(environment: ["ENVIRONMENT": "dev"], dotEnvPath: nil)).webhookCredentials.isEmpty)
    }

    @Test("the feed-gap writer says and counts feed gaps in their own stream; the events' writer keeps the alerted series")
    func feedGapDeadLettersAreNamed() throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:1"), logger: Logger(label: "test"))
        let channels = EventChannels(prefix: "ticker:nifty")
        let gaps = DeadLetterWriter.feedGaps(redis: redis, channels: channels, consumer: "c", logger: Logger(label: "test"))
        #expect(gaps.stream == "ticker:nifty:feed-gaps:dead")
        #expect(gaps.kind.noun == "Feed gap" && gaps.kind.metric == "backend_feed_gaps_dead_lettered_total")
        let events = DeadLetterWriter(redis: redis, channels: channels, consumer: "c", logger: Logger(label: "test"))
        #expect(events.stream == channels.eventsDeadLetterStream)
        #expect(events.kind.noun == "Subscription event" && events.kind.metric == "backend_subscription_events_dead_lettered_total")
    }

    @Test("a dead letter's fields are bounded whatever the payload and reason, and the stream is capped")
    func deadLetterFieldsAreBounded() {
        let excerpt = DeadLetterWriter.PayloadExcerpt(String(repeating: "é", count: 200_000))
        #expect(excerpt.bytes == 400_000)
        #expect(excerpt.truncated)
        let fields = DeadLetterWriter.fields(
            excerpt: excerpt, reason: String(repeating: "€", count: 100_000), code: "invalid_field", source: "webhook",
            consumer: String(repeating: "c", count: 5_000), originalID: "1-1", deliveries: 3
        )
        let bytes = fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count }
        #expect(bytes <= DeadLetterWriter.maxEntryBytes, "\(bytes) bytes")
        // The figures docs/backfill.md states: 3,492 bytes per entry, 10,000 entries, about 35 MB.
        #expect(DeadLetterWriter.maxEntryBytes == 3_492)
        #expect(DeadLetterWriter.defaultMaxLength == 10_000)
        #expect(DeadLetterWriter.defaultMaxLength * DeadLetterWriter.maxEntryBytes <= 35_000_000)
    }

    @Test("the throttle lets the first of a key through per window and counts the repeats; its memory is bounded")
    func throttle() {
        let throttle = RejectionThrottle(window: .seconds(10), maxKeys: 3)
        let start = ContinuousClock.now
        #expect(throttle.note("a", now: start) == .init(pass: true, suppressedBefore: 0))
        #expect(throttle.note("a", now: start + .seconds(1)) == .init(pass: false, suppressedBefore: 0))
        #expect(throttle.note("a", now: start + .seconds(2)) == .init(pass: false, suppressedBefore: 0))
        #expect(throttle.note("b", now: start + .seconds(2)).pass)
        #expect(throttle.note("a", now: start + .seconds(11)) == .init(pass: true, suppressedBefore: 2))
        for key in ["c", "d", "e", "f"] { #expect(throttle.note(key, now: start + .seconds(12)).pass) }
    }
}
