import BrokerWire
import Foundation
import Shared
import Testing

@testable import BackendService

/// The pure parts of the repair: grouping due minutes into requests, the final rule, the reconciler's comparison.
@Suite("Repair plan, final rule, reconciliation compare")
struct RepairPlanTests {
    let m = testMinute

    func suspect(_ token: Int64, _ offset: Int64, attempts: Int = 0) -> SuspectMinute {
        SuspectMinute(instrumentToken: token, minute: m + offset * 60, reasons: ["stall"], attempts: attempts)
    }

    @Test("contiguous minutes of an instrument are one request; instruments never share one; far-apart runs split")
    func grouping() {
        let due = [suspect(2, 1), suspect(1, 2), suspect(1, 0), suspect(1, 1), suspect(2, 0), suspect(1, 100)]
        let requests = RepairPlan.requests(for: due, maxHoleMinutes: 30)
        #expect(requests.map(\.instrumentToken) == [1, 1, 2])
        #expect(requests.map { [$0.first, $0.last] } == [[m, m + 120], [m + 6000, m + 6000], [m, m + 60]])
        #expect(requests.map(\.minutes.count) == [3, 1, 2])
    }

    @Test("a long gap's first and last minutes with tick minutes between are one request when the holes are small")
    func holesWithinOneRequest() {
        let due = [suspect(7, 0), suspect(7, 5), suspect(7, 9), suspect(7, 40)]
        let requests = RepairPlan.requests(for: due, maxHoleMinutes: 30)
        #expect(requests.count == 1)
        #expect(requests[0].spanMinutes == 41)
        #expect(RepairPlan.requests(for: due, maxHoleMinutes: 3).count == 3)
        #expect(RepairPlan.requests(for: due, maxHoleMinutes: 30, maxSpanMinutes: 10).map(\.spanMinutes) == [10, 1])
    }

    @Test("the take: instruments of the oldest due minutes, all their due minutes from the earliest, capped per instrument and by one request's span")
    func takeByInstrument() {
        let due: [(minute: SuspectMinute, dueAt: Int64)] = [
            (suspect(5, 0), 30), (suspect(5, 1), 31), (suspect(5, 2), 32), (suspect(6, 0), 10), (suspect(6, 90), 5), (suspect(7, 0), 1),
        ]
        // Oldest due: 7 (1), 6 (5), then 5 (30).
        #expect(RepairPlan.take(due: due, instruments: 2, perInstrument: 10).map { [$0.instrumentToken, ($0.minute - m) / 60] } == [[6, 0], [6, 90], [7, 0]])
        #expect(RepairPlan.take(due: due, instruments: 3, perInstrument: 2).map { [$0.instrumentToken, ($0.minute - m) / 60] } == [[5, 0], [5, 1], [6, 0], [6, 90], [7, 0]])
        #expect(RepairPlan.take(due: due, instruments: 3, perInstrument: 10, maxSpanMinutes: 60).filter { $0.instrumentToken == 6 }.count == 1)
        // A backlog of one instrument's drops every 3 minutes for an hour is one request.
        let backlog = (0..<20).map { (minute: suspect(8, Int64($0) * 3), dueAt: Int64($0)) }
        #expect(RepairPlan.requests(for: RepairPlan.take(due: backlog, instruments: 1, perInstrument: 1_440)).count == 1)
        #expect(RepairPlan.defaultMaxSpanMinutes == 60 * 1_440 - 1)
    }

    @Test("final: backfill and repaired minutes at once; a ticks minute only unmarked and REPAIR_WINDOW after its close")
    func finalRule() {
        let minute = Date(timeIntervalSince1970: TimeInterval(m))
        let window = Duration.seconds(120)
        // No ticks minute in the bar (all backfill/repaired).
        #expect(BarFinality.isFinal(latestTickMinute: nil, suspectTickMinutes: 0, now: minute, window: window))
        // A ticks minute: closes at +60, final from +180.
        #expect(!BarFinality.isFinal(latestTickMinute: minute, suspectTickMinutes: 0, now: minute.addingTimeInterval(179), window: window))
        #expect(BarFinality.isFinal(latestTickMinute: minute, suspectTickMinutes: 0, now: minute.addingTimeInterval(180), window: window))
        // Suspect: never final, however old.
        #expect(!BarFinality.isFinal(latestTickMinute: minute, suspectTickMinutes: 1, now: minute.addingTimeInterval(86_400), window: window))
    }

    @Test("the reconciler compares OHLCV exactly and returns the broker's candle for the minutes that differ")
    func compare() {
        let a = KiteCandle(timestamp: m, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10)
        let b = KiteCandle(timestamp: m + 60, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10)
        let c = KiteCandle(timestamp: m + 120, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10)
        var altered = b
        altered.volume = 11
        let result = MinuteReconciler.compare(stored: [a, altered, c], broker: [a, b])
        #expect(result.equal == 1 && result.differing == [b] && result.noCandle == 1)
    }
}
