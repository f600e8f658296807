/// Capped exponential backoff with full jitter: after the n-th failure in a row, a delay drawn uniformly from
/// `0...min(base · 2^(n-1), cap)`, so that many clients retrying the same dependency spread out instead of
/// hammering it in step.
public struct Backoff: Sendable, Hashable {
    /// The ceiling of the first delay (after one failure).
    public var base: Duration
    /// The largest ceiling any delay can have.
    public var cap: Duration

    /// Creates a backoff policy.
    /// - Parameters:
    ///   - base: The ceiling of the delay after the first failure.
    ///   - cap: The largest ceiling; the exponential growth stops there.
    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling of the delay after `failures` failures in a row, before jitter: `min(base · 2^(failures-1), cap)`.
    /// - Parameters:
    ///   - failures: How many attempts failed in a row (values below 1 count as 1).
    public func ceiling(afterFailures failures: Int) -> Duration {
        let exponent = Swift.min(Swift.max(failures - 1, 0), 30)
        return Swift.min(base * (1 << exponent), cap)
    }

    /// A random delay in `0...ceiling(afterFailures: failures)`.
    /// - Parameters:
    ///   - failures: How many attempts failed in a row (values below 1 count as 1).
    public func delay(afterFailures failures: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &generator)
    }

    /// A random delay in `0...ceiling(afterFailures: failures)`, drawn from `generator`.
    /// - Parameters:
    ///   - failures: How many attempts failed in a row (values below 1 count as 1).
    ///   - generator: The source of randomness (a seeded one in tests).
    public func delay(afterFailures failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        ceiling(afterFailures: failures) * Double.random(in: 0...1, using: &generator)
    }
}
