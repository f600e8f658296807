import ArgumentParser
import Foundation
import Shared

/// Broker requests the minute repair spends per hour at `--instruments` instruments with one connection drop a minute,
/// computed with the service's own grouping (``RepairPlan``), beside the historical-API budget (Kite: 3 requests/s per
/// API key). Pure computation: no processes.
///
/// Model: the instruments are spread over connections of `--per-connection`; every minute one connection (in turn)
/// drops at a random second and is back after `--outage-seconds`, so its instruments' touched minutes (1, or 2 when the
/// outage crosses a minute boundary) are suspect. Two ways the service can meet them: the repair keeps pace (each
/// drop's minutes are planned on their own, as they come due), or a backlog builds up and the whole hour is planned at
/// once (the most merging ``RepairPlan`` can do: runs of one instrument up to 30 minutes apart share a request).
struct RepairBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Broker requests per hour spent on repair at 9,000 instruments with one drop a minute, beside the rate limit."
    )

    @Option(help: "Subscribed instruments.")
    var instruments = 9_000

    @Option(help: "Instruments per connection (Kite: at most 3,000).")
    var perConnection = 3_000

    @Option(help: "Seconds each drop lasts before the connection streams again.")
    var outageSeconds = 5

    @Option(help: "Historical requests per second per API key (Kite: 3).")
    var requestsPerSecond = 3.0

    @Option(help: "Share of the budget repair may use (TickerService keeps at least a third for backfill).")
    var repairShare = 2.0 / 3.0

    @Option(help: "Seed of the drop times.")
    var seed: UInt64 = 42

    func run() async throws {
        let connections = max(1, (instruments + perConnection - 1) / perConnection)
        let keys = max(1, (connections + 2) / 3)  // Kite: 3 connections per API key
        var generator = SplitMix(seed: seed)
        let hourStart: Int64 = 1_763_610_300
        var perDrop: [[SuspectMinute]] = []
        for minute in 0..<60 {
            let connection = minute % connections
            let tokens = (connection * perConnection)..<min(instruments, (connection + 1) * perConnection)
            let startMillis = (hourStart + Int64(minute) * 60) * 1000 + Int64(generator.next() % 60_000)
            let gap = FeedGap(
                gapID: "bench-\(minute)", reason: .drop, startMillis: startMillis, endMillis: startMillis + Int64(outageSeconds) * 1000,
                instrumentTokens: tokens.map { Int64($0 + 1) }
            )
            perDrop.append(gap.instrumentTokens.flatMap { token in
                gap.touchedMinuteStarts.map { SuspectMinute(instrumentToken: token, minute: $0, reasons: ["drop"], attempts: 0) }
            })
        }
        let minutesMarked = perDrop.map(\.count).reduce(0, +)
        let keepingPace = perDrop.map { RepairPlan.requests(for: $0).count }.reduce(0, +)
        let backlog = RepairPlan.requests(for: perDrop.flatMap { $0 }).count
        let budget = requestsPerSecond * 3600 * Double(keys)
        let repairBudget = budget * repairShare
        let perDropRequests = Double(keepingPace) / 60
        let secondsPerDrop = perDropRequests / (requestsPerSecond * Double(keys) * repairShare)

        print("repair: \(instruments) instruments on \(connections) connections (\(keys) API key(s)), one \(outageSeconds) s drop a minute")
        print("  suspect minutes marked per hour:             \(minutesMarked)")
        print("  requests per hour, repair keeping pace:      \(keepingPace)  (\(Int(perDropRequests)) per drop: contiguous minutes of an instrument are one request)")
        print("  requests per hour, whole hour as one backlog: \(backlog)  (runs up to \(RepairPlan.defaultMaxHoleMinutes) min apart merged)")
        print("    (the best case of RepairPlan: the service takes due minutes oldest-first, REPAIR_BATCH_MINUTES at a time, not per")
        print("     instrument, so in a backlog it spends close to the keeping-pace figure; per-instrument batches are not built)")
        print("  budget per hour: \(Int(budget)) at \(requestsPerSecond) req/s per key; repair's share \(Int(repairBudget))")
        print("  one drop's minutes take \(Int(secondsPerDrop.rounded())) s of repair's share to fetch (target: repaired within 120 s of the close)")
        if Double(keepingPace) <= repairBudget {
            print("  verdict: the budget covers repair (\(Int(Double(keepingPace) / repairBudget * 100))% of repair's share)")
        } else {
            let ratio = Double(min(keepingPace, backlog)) / repairBudget
            print(
                "  verdict: the budget does NOT cover it: repair needs \(String(format: "%.0f", Double(keepingPace) / repairBudget))x its share as built, \(String(format: "%.2f", ratio))x even fully merged. The service then repairs oldest-due first at the rate limit, "
                    + "backfill keeps its third, the reconciler stands down, and backend_suspect_minutes_due grows; those minutes stay final=false until repaired."
            )
        }
    }
}

/// A small deterministic generator, so the drop times are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
