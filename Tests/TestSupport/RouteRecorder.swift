import Synchronization

/// Collects the routes a service's wiring registers, as `METHOD /path`, from the `inspectRouter` hook (which runs
/// inside `buildApplication`, so it must be `Sendable`).
public final class RouteRecorder: Sendable {
    private let routes = Mutex<Set<String>>([])

    /// An empty recorder.
    public init() {}

    /// Adds routes.
    /// - Parameter list: Routes as `METHOD /path`, e.g. `GET /subscriptions/{token}`.
    public func record(_ list: [String]) { routes.withLock { $0.formUnion(list) } }

    /// Every route recorded.
    public var all: Set<String> { routes.withLock { $0 } }
}
