import Foundation
import Logging
import SharedRedis
import TestSupport

/// A short unique suffix so parallel tests never share keys.
func unique(_ prefix: String) -> String {
    "\(prefix):\(UUID().uuidString.prefix(8))"
}

let testLogger: Logger = {
    var logger = Logger(label: "redis-tests")
    logger.logLevel = .warning
    return logger
}()

func makeClient(_ url: String, commandTimeout: Duration = .seconds(5)) throws -> RedisClient {
    RedisClient(configuration: try RedisConfiguration(url: url, commandTimeout: commandTimeout), logger: testLogger)
}

/// Retries `body` until it returns a value, failing after `attempts` tries (for conditions that need a server-side
/// state change, such as an entry becoming idle; nothing is asserted about how long it took).
func eventually<T>(attempts: Int = 200, every delay: Duration = .milliseconds(50), _ body: () async throws -> T?) async throws -> T {
    for _ in 0..<attempts {
        if let value = try await body() { return value }
        try await Task.sleep(for: delay)
    }
    throw EventuallyError()
}

struct EventuallyError: Error {}
