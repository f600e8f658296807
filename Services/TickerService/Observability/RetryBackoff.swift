/// Capped exponential backoff with jitter ("equal jitter": half fixed, half random), for every retry loop here.
enum RetryBackoff {
    /// The delay before retry number `attempt` (1-based).
    /// - Parameters:
    ///   - attempt: How many attempts failed so far.
    ///   - base: Delay after the first failure (before jitter).
    ///   - max: Upper bound.
    static func delay(attempt: Int, base: Duration, max: Duration) -> Duration {
        let exponent = Swift.min(Swift.max(attempt - 1, 0), 20)
        let raw = Swift.min(base * (1 << exponent), max)
        return raw / 2 + raw / 2 * Double.random(in: 0...1)
    }
}

extension Duration {
    /// Whole milliseconds, for log metadata.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
