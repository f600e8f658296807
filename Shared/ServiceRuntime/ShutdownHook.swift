import ServiceLifecycle

/// A service that does nothing until graceful shutdown, then runs a closing action: the place where a
/// service closes the clients it owns (Redis, PostgreSQL) after its other services have stopped using them.
public struct ShutdownHook: Service {
    let action: @Sendable () async -> Void

    /// Creates the hook.
    /// - Parameter action: What to do at shutdown, e.g. close connection pools.
    public init(_ action: @escaping @Sendable () async -> Void) {
        self.action = action
    }

    public func run() async throws {
        // Returns on graceful shutdown or throws on cancellation; either way, close.
        try? await gracefulShutdown()
        await action()
    }
}
