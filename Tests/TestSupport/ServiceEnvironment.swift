/// Environments for the platform's processes started by tests, so that no test depends on a default port or on a
/// process it did not start (a developer's `make run` stack listens on the defaults: 8080, 8081, 8090, 6379, 5432).
public enum ServiceEnvironment {
    /// Every endpoint key set to an address where nothing listens (an empty value for `ACCOUNTS_FILE`).
    /// - Parameter except: Keys to leave out (those the caller sets another way, e.g. by command-line flags).
    /// - Returns: Settings, keyed by environment-variable name.
    public static func unreachable(except: Set<String> = []) -> [String: String] {
        let closed = Ports.closedLoopbackPort
        let all: [String: String] = [
            "REDIS_URL": "redis://127.0.0.1:\(closed)",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:\(closed)/none",
            "TICKER_URL": "http://127.0.0.1:\(closed)",
            "BROKER_URL": "http://127.0.0.1:\(closed)",
            "BROKER_WS_URL": "ws://127.0.0.1:\(closed)",
            "DHAN_WS_URL": "ws://127.0.0.1:\(closed)/dhan",
            "DHAN_URL": "http://127.0.0.1:\(closed)",
            // Empty: the single simulator account from KITE_API_KEY, never an accounts file from the developer's shell.
            "ACCOUNTS_FILE": "",
        ]
        return all.filter { !except.contains($0.key) }
    }

    /// `given` plus, for every endpoint key it does not set, an address where nothing listens.
    /// - Parameter given: The settings the test chose.
    /// - Returns: The environment to start a service with.
    public static func isolated(_ given: [String: String]) -> [String: String] {
        unreachable().merging(given) { _, chosen in chosen }
    }
}
