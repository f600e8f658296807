import NIOCore
import Synchronization
import Testing

@testable import TickerService

@Suite("Subscription list cache")
struct SubscriptionListCacheTests {
    final class Builds: Sendable {
        let count = Atomic<Int>(0)
        func body(_ text: String) -> ByteBuffer {
            count.add(1, ordering: .relaxed)
            return ByteBuffer(string: text)
        }
        var made: Int { count.load(ordering: .relaxed) }
    }

    @Test("a body is built once until an invalidation; a body built while a write runs is not kept past it; old bodies expire")
    func reuseAndInvalidation() async throws {
        let cache = SubscriptionListCache(maxAge: .milliseconds(300))
        let builds = Builds()
        let whole = SubscriptionListCache.Key(activeOnly: true, after: nil, limit: nil)
        #expect(String(buffer: try await cache.body(for: whole) { builds.body("a") }) == "a")
        #expect(String(buffer: try await cache.body(for: whole) { builds.body("b") }) == "a")
        #expect(builds.made == 1)
        // A write begins (its first invalidation) and ends (its second) while a list is being built: that body is
        // answered once, never kept.
        cache.invalidate()
        let during = try await cache.body(for: whole) {
            cache.invalidate()
            return builds.body("during")
        }
        #expect(String(buffer: during) == "during")
        #expect(String(buffer: try await cache.body(for: whole) { builds.body("after") }) == "after")
        #expect(builds.made == 3)
        // Another key is another body.
        let page = SubscriptionListCache.Key(activeOnly: true, after: 5, limit: 10)
        #expect(String(buffer: try await cache.body(for: page) { builds.body("page") }) == "page")
        try await Task.sleep(for: .milliseconds(400))
        #expect(String(buffer: try await cache.body(for: whole) { builds.body("expired") }) == "expired")
    }

    @Test("past maxBytes the cache starts over instead of growing")
    func bounded() async throws {
        let cache = SubscriptionListCache(maxBytes: 10)
        let builds = Builds()
        for after in 0..<5 {
            _ = try await cache.body(for: .init(activeOnly: true, after: Int64(after), limit: 1)) { builds.body("1234") }
        }
        // Two 4-byte bodies fit; the third starts over, so the first is gone and is built again.
        _ = try await cache.body(for: .init(activeOnly: true, after: 0, limit: 1)) { builds.body("1234") }
        #expect(builds.made == 6)
        let huge = try await cache.body(for: .init(activeOnly: false, after: nil, limit: nil)) { builds.body("far too large") }
        #expect(String(buffer: huge) == "far too large")
    }
}
