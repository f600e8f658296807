import Foundation

/// The overall status `/health` reports, derived from the dependency checks.
public enum HealthStatus: String, Sendable, Codable {
    /// Everything the service needs works.
    case ok
    /// A dependency is failing; the service keeps running and retries.
    case degraded

    /// `ok` only when every dependency is.
    /// - Parameter results: The checks' results.
    public init(_ results: [(name: String, status: DependencyStatus)]) {
        self = results.allSatisfy { $0.status.isOK } ? .ok : .degraded
    }
}

extension DependencyStatus {
    /// The `dependencies` object of health JSON: each check's name and `"ok"` or its error text.
    /// - Parameter results: The checks' results.
    public static func report(_ results: [(name: String, status: DependencyStatus)]) -> [String: String] {
        Dictionary(results.map { ($0.name, $0.status.text) }) { first, _ in first }
    }
}
