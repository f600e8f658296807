import Foundation
import TestSupport

/// Counters read from a running component's Prometheus text, the way the benchmarks count what each stage did.
enum MetricsScrape {
    /// The sum of every series of the counter `name` in `component`'s `/metrics`, only those whose labels contain
    /// `label` (e.g. `feed="dhan"`) when given.
    static func sum(_ platform: Platform, _ component: Platform.Component, _ name: String, label: String? = nil) async throws -> Double {
        let text = String(decoding: try await platform.get(component, "/metrics").body, as: UTF8.self)
        return text.split(separator: "\n")
            .filter { line in
                guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return false }
                guard let label else { return true }
                return line.contains(label)
            }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }
}
