import SharedBasics
import Testing
import WireFixtures

@Suite("Backoff")
struct BackoffTests {
    private let backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))

    @Test func ceilingDoublesPerFailureUpToTheCap() {
        #expect(backoff.ceiling(afterFailures: 1) == .milliseconds(100))
        #expect(backoff.ceiling(afterFailures: 2) == .milliseconds(200))
        #expect(backoff.ceiling(afterFailures: 5) == .milliseconds(1600))
        #expect(backoff.ceiling(afterFailures: 6) == .seconds(2))
        #expect(backoff.ceiling(afterFailures: 10_000) == .seconds(2))
        // Zero or negative counts behave as the first failure instead of shifting by a negative amount.
        #expect(backoff.ceiling(afterFailures: 0) == .milliseconds(100))
        #expect(backoff.ceiling(afterFailures: -3) == .milliseconds(100))
    }

    @Test func delaysAreFullyJitteredBelowTheCeiling() {
        var generator = WireRandom(seed: 42)
        for failures in 1...12 {
            let ceiling = backoff.ceiling(afterFailures: failures)
            let delays = (0..<200).map { _ in backoff.delay(afterFailures: failures, using: &generator) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling })
            // Full jitter spreads over the whole range, not only its upper half.
            #expect(delays.contains { $0 < ceiling / 2 })
            #expect(delays.contains { $0 > ceiling / 2 })
        }
    }
}
