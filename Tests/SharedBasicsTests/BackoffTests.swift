import SharedBasics
import Testing

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
        var generator = SplitMix64(seed: 42)
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

/// A small seeded generator so the jitter test is repeatable.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
