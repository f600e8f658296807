/// Polls `condition` until it holds, every `interval`, for at most `timeout`; throws `PlatformError` naming `what`
/// when it never does. The timeout is a bound for a test that would otherwise hang, never a timing assertion: keep it
/// generous (CI machines can be several times slower than a laptop).
public func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(60),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw PlatformError("timed out waiting until \(what)")
}
