import NIOCore
import Synchronization

/// Encoded `GET /subscriptions` bodies, answered again until the subscriptions change.
///
/// The list is read far more often than it changes (terminals and BackendService poll it; 25,000 rows take a query and
/// 5 MB of JSON each time). Every write of ``SubscriptionManager`` calls ``invalidate()`` (before and after it, so a
/// body built while a write runs is never kept past it); a body is reused only while no write has happened since the
/// list it holds was read, and for at most ``maxAge``, which bounds how long a change made outside this process (an
/// operator's SQL) stays unseen. At most ``maxBytes`` are kept; past that the cache starts over.
final class SubscriptionListCache: Sendable {
    /// One list request: which subscriptions, from where, how many.
    struct Key: Hashable, Sendable {
        var activeOnly: Bool
        var after: Int64?
        var limit: Int?
    }

    private struct Entry {
        var generation: UInt64
        var storedAt: ContinuousClock.Instant
        var body: ByteBuffer
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
    }

    let maxAge: Duration
    let maxBytes: Int
    private let generation = Atomic<UInt64>(0)
    private let state = Mutex(State())

    init(maxAge: Duration = .seconds(5), maxBytes: Int = 32 << 20) {
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }

    /// Forgets every body: the subscriptions are changing.
    func invalidate() {
        generation.add(1, ordering: .acquiringAndReleasing)
    }

    /// The body for `key`: the kept one when nothing changed since it was built, else `build()`'s, kept for next time.
    func body(for key: Key, build: () async throws -> ByteBuffer) async throws -> ByteBuffer {
        let current = generation.load(ordering: .acquiring)
        let now = ContinuousClock.now
        if let kept = state.withLock({ $0.entries[key] }), kept.generation == current, now - kept.storedAt < maxAge {
            return kept.body
        }
        let body = try await build()
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.body.readableBytes }
            if state.bytes + body.readableBytes > maxBytes {
                state.entries.removeAll()
                state.bytes = 0
            }
            guard body.readableBytes <= maxBytes else { return }
            state.entries[key] = Entry(generation: current, storedAt: now, body: body)
            state.bytes += body.readableBytes
        }
        return body
    }
}
