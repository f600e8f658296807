import ArgumentParser
import Foundation
import Shared
import WireFixtures

/// Broker requests the minute repair spends per hour at `--instruments` instruments with one connection drop a minute,
/// simulated with the service's own take rule and grouping (``RepairPlan/take(due:instruments:perInstrument:maxSpanMinutes:)``,
/// the Swift form of `SuspectMinuteStore.takeDue`, and ``RepairPlan/requests(for:maxHoleMinutes:maxSpanMinutes:)``),
/// beside the historical-API budget (Kite: 3 requests/s per API key). Pure computation: no processes.
///
/// Model: the instruments are spread over connections of `--per-connection`; every minute one connection (in turn)
/// drops at a random second and is back after `--outage-seconds`, so its instruments' touched minutes (1, or 2 when the
/// outage crosses a minute boundary) are suspect, due `--delay` seconds after they close. The repair loop as built: a
/// look takes `--batch-instruments` instruments (oldest due first) with up to `--batch-minutes` due minutes each,
/// groups them, spends `1 / (req/s × keys × --repair-share)` seconds per request (the pacing), then sleeps
/// `--interval`. The broker is assumed to have every candle (no empty answers, no failures).
struct RepairBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Broker requests per hour spent on repair at 9,000 instruments with one drop a minute, as built, beside the rate limit."
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

    @Option(help: "Hours of drops simulated.")
    var hours = 3

    @Option(help: "REPAIR_BATCH_INSTRUMENTS: instruments taken per look.")
    var batchInstruments = 120

    @Option(help: "REPAIR_BATCH_MINUTES: most due minutes of one instrument taken per look.")
    var batchMinutes = 1_440

    @Option(help: "REPAIR_INTERVAL: seconds between looks.")
    var interval = 5.0

    @Option(help: "REPAIR_DELAY: seconds after a minute closes before it is due.")
    var delay = 10.0

    @Option(help: "Seed of the drop times.")
    var seed: UInt64 = 42

    func run() async throws {
        let connections = max(1, (instruments + perConnection - 1) / perConnection)
        let keys = max(1, (connections + 2) / 3)  // Kite: 3 connections per API key
        var generator = WireRandom(seed: seed)  // the project's seeded generator: the same drop times on every run
        let hourStart: Int64 = 1_763_610_300
        let dropMinutes = max(1, hours) * 60
        // Every suspect minute with the time it becomes due, in due order.
        var marked: [(minute: SuspectMinute, dueAt: Double)] = []
        var perDropRequests = 0
        for minute in 0..<dropMinutes {
            let connection = minute % connections
            let tokens = (connection * perConnection)..<min(instruments, (connection + 1) * perConnection)
            let startMillis = (hourStart + Int64(minute) * 60) * 1000 + Int64(generator.next() % 60_000)
            let gap = FeedGap(
                gapID: "bench-\(minute)", reason: .drop, startMillis: startMillis, endMillis: startMillis + Int64(outageSeconds) * 1000,
                instrumentTokens: tokens.map { Int64($0 + 1) }
            )
            let drop = gap.instrumentTokens.flatMap { token in
                gap.touchedMinuteStarts.map { SuspectMinute(instrumentToken: token, minute: $0, reasons: ["drop"], attempts: 0) }
            }
            perDropRequests += RepairPlan.requests(for: drop).count
            marked += drop.map { (minute: $0, dueAt: Double($0.minute + 60) + delay) }
        }
        marked.sort { $0.dueAt < $1.dueAt }

        let secondsPerRequest = 1 / (requestsPerSecond * Double(keys) * repairShare)
        let end = Double(hourStart) + Double(dropMinutes) * 60
        var clock = Double(hourStart)
        var cursor = 0
        var waiting: [(minute: SuspectMinute, dueAt: Int64)] = []
        struct Hour { var requests = 0; var repaired = 0; var latencies: [Double] = []; var backlogAtEnd = 0 }
        var byHour = [Hour](repeating: Hour(), count: max(1, hours))
        func hour(_ time: Double) -> Int { min(byHour.count - 1, max(0, Int((time - Double(hourStart)) / 3600))) }
        var lastHour = 0
        while clock < end {
            while cursor < marked.count, marked[cursor].dueAt <= clock {
                waiting.append((minute: marked[cursor].minute, dueAt: Int64(marked[cursor].dueAt)))
                cursor += 1
            }
            let taken = RepairPlan.take(due: waiting, instruments: batchInstruments, perInstrument: batchMinutes)
            if !taken.isEmpty {
                let takenKeys = Set(taken.map { [$0.instrumentToken, $0.minute] })
                waiting.removeAll { takenKeys.contains([$0.minute.instrumentToken, $0.minute.minute]) }
                for request in RepairPlan.requests(for: taken) {
                    clock += secondsPerRequest
                    guard clock < end else { break }
                    let h = hour(clock)
                    byHour[h].requests += 1
                    byHour[h].repaired += request.minutes.count
                    byHour[h].latencies += request.minutes.map { clock - Double($0.minute + 60) }
                }
            }
            clock += interval
            let h = hour(clock)
            if h != lastHour {
                byHour[lastHour].backlogAtEnd = waiting.count + marked[cursor...].prefix { $0.dueAt <= Double(hourStart) + Double(lastHour + 1) * 3600 }.count
                lastHour = h
            }
        }
        byHour[byHour.count - 1].backlogAtEnd = waiting.count + marked[cursor...].prefix { $0.dueAt <= end }.count

        let budget = requestsPerSecond * 3600 * Double(keys)
        let repairBudget = budget * repairShare
        print("repair: \(instruments) instruments on \(connections) connections (\(keys) API key(s)), one \(outageSeconds) s drop a minute, \(hours) h simulated")
        print("  as built: a look takes \(batchInstruments) instruments (oldest due first) with up to \(batchMinutes) due minutes each, every \(interval) s;")
        print("  RepairPlan: runs up to \(RepairPlan.defaultMaxHoleMinutes) min apart share a request, a request spans at most 60 days")
        print("  suspect minutes marked per hour:  \(marked.count / max(1, hours))")
        print("  budget per hour: \(Int(budget)) at \(requestsPerSecond) req/s per key; repair's share \(Int(repairBudget)) (\(Int((repairShare * 100).rounded()))%)")
        print("  if each drop were repaired on its own as it came due: \(perDropRequests / max(1, hours)) requests per hour")
        print("  hour  requests  (% of 3 req/s budget, % of repair's share)  minutes repaired  per request  backlog at end  repaired after close (median, max)")
        for (index, h) in byHour.enumerated() {
            let sorted = h.latencies.sorted()
            let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            let maximum = sorted.last ?? 0
            print(
                "  \(index + 1)     \(h.requests)  (\(Int((Double(h.requests) / budget * 100).rounded()))%, \(Int((Double(h.requests) / repairBudget * 100).rounded()))%)"
                    + "  \(h.repaired)  \(h.requests == 0 ? "-" : String(format: "%.1f", Double(h.repaired) / Double(h.requests)))  \(h.backlogAtEnd)"
                    + "  \(Int(median / 60)) min, \(Int(maximum / 60)) min"
            )
        }
        let lastFull = byHour[byHour.count - 1]
        let within2Minutes = lastFull.latencies.filter { $0 <= 120 }.count
        print(
            "  verdict: last hour \(lastFull.requests) requests/h as built (\(Int((Double(lastFull.requests) / repairBudget * 100).rounded()))% of repair's share); "
                + "\(lastFull.repaired) of \(marked.count / max(1, hours)) minutes marked per hour repaired, \(within2Minutes) of them within 2 min of the close"
        )
    }
}
