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

/// Encodes health payloads: sorted keys so the output is stable for people and diffs.
public enum HealthJSON {
    /// Serialises a JSON object.
    /// - Parameter object: Dictionaries, arrays, strings, numbers and booleans.
    public static func encode(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
