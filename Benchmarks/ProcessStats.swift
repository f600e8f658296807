import Foundation

/// Resident memory and CPU time of a process, read from /proc (Linux).
enum ProcessStats {
    /// Resident set size in bytes.
    static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    /// User + system CPU seconds consumed so far.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14 and stime 15 (1-based) → indices 11 and 12 here.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Percentiles of a sample of durations.
struct LatencySample {
    private(set) var values: [Double] = []
    mutating func add(_ duration: Duration) { values.append(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) }
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }
    func describe(_ label: String) -> String {
        String(format: "%@: p50 %.1f ms, p99 %.1f ms (n=%d)", label, percentile(50) * 1000, percentile(99) * 1000, values.count)
    }
    /// With three decimals, for sub-millisecond figures.
    func describeFine(_ label: String) -> String {
        String(format: "%@: p50 %.3f ms, p99 %.3f ms (n=%d)", label, percentile(50) * 1000, percentile(99) * 1000, values.count)
    }
}
