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
