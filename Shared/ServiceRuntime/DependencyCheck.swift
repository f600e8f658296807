
/// The state of one dependency as `/health` reports it: `"ok"` or the error text.
public enum DependencyStatus: Sendable, Equatable {
    case ok
    case failed(String)

    /// The text written into health JSON.
    public var text: String {
        switch self {
        case .ok: "ok"
        case .failed(let reason): reason
        }
    }

    /// Whether the dependency works.
    public var isOK: Bool { self == .ok }
}

/// Something `/health` checks, such as Redis or PostgreSQL.
public protocol DependencyCheck: Sendable {
    /// The key under `dependencies` in health JSON, e.g. `redis`.
    var name: String { get }
    /// Checks the dependency now.
    func check() async -> DependencyStatus
}

/// A check given as a closure that throws when the dependency does not work, e.g.
/// `ClosureDependencyCheck(name: "redis") { try await redis.ping() }`.
public struct ClosureDependencyCheck: DependencyCheck {
    public let name: String
    let body: @Sendable () async throws -> Void

    /// Creates the check.
    /// - Parameters:
    ///   - name: The key under `dependencies` in health JSON.
    ///   - body: Throws when the dependency does not work; the error's description is reported.
    public init(name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.body = body
    }

    public func check() async -> DependencyStatus {
        do {
            try await body()
            return .ok
        } catch {
            return .failed(String(describing: error))
        }
    }
}

extension Array where Element == any DependencyCheck {
    /// Runs every check concurrently.
    /// - Returns: Each check's name and status, in the order given.
    public func runAll() async -> [(name: String, status: DependencyStatus)] {
        await withTaskGroup(of: (Int, DependencyStatus).self) { group in
            for (index, check) in self.enumerated() {
                group.addTask { (index, await check.check()) }
            }
            var results = [DependencyStatus?](repeating: nil, count: count)
            for await (index, status) in group { results[index] = status }
            return zip(self, results).map { ($0.name, $1 ?? .failed("not checked")) }
        }
    }
}
