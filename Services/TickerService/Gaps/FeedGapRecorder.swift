import Foundation
import Logging
import Shared
import SharedBasics
import Synchronization

/// Where the feed, the tick buffer and the subscription layer report feed gaps: splits each into gaps of at most
/// ``FeedGapCodec/maximumInstruments`` instruments, counts it, logs it once, and queues it (bounded, see
/// ``FeedGapQueue``) for ``FeedGapPublisher``.
final class FeedGapRecorder: Sendable {
    private let queue: Mutex<FeedGapQueue>
    private let signal = OutboxSignal()
    private let logger: Logger

    /// - Parameters:
    ///   - capacity: The most gaps held while Redis cannot take them.
    ///   - logger: Logger.
    init(capacity: Int = 10_000, logger: Logger = Logger(label: "ticker-service.gaps")) {
        self.queue = Mutex(FeedGapQueue(capacity: capacity))
        self.logger = logger
    }

    /// Records a gap.
    /// - Parameters:
    ///   - reason: Why ticks may be missing.
    ///   - accountID: The account whose connection had it, if one did.
    ///   - connectionID: The connection (`account#n`), if one had it.
    ///   - startMillis: First moment, epoch ms.
    ///   - endMillis: Last moment, epoch ms (raised to `startMillis` if earlier).
    ///   - tokens: The instruments (nothing is recorded without one).
    func record(
        _ reason: FeedGap.Reason, accountID: String? = nil, connectionID: String? = nil, startMillis: Int64, endMillis: Int64,
        tokens: some Collection<UInt32>
    ) {
        guard !tokens.isEmpty else { return }
        let sorted = Array(Set(tokens.map { Int64($0) })).sorted()
        let end = max(startMillis, endMillis)
        var lost = 0
        let pending = queue.withLock { queue in
            for chunk in sorted.chunked(FeedGapCodec.maximumInstruments) {
                let gap = FeedGap(
                    gapID: UUID().uuidString.lowercased(), reason: reason, accountID: accountID, connectionID: connectionID,
                    startMillis: startMillis, endMillis: end, instrumentTokens: chunk
                )
                if !queue.append(gap) { lost += 1 }
            }
            return queue.count
        }
        FeedMetrics.feedGap(reason: reason.rawValue)
        FeedMetrics.feedGapsPending(pending)
        var metadata: Logger.Metadata = [
            FeedGapLogKey.reason: "\(reason.rawValue)", FeedGapLogKey.startMS: "\(startMillis)", FeedGapLogKey.endMS: "\(end)",
            FeedGapLogKey.durationMS: "\(end - startMillis)", TickerLogKey.tokens: "\(sorted.count)",
        ]
        if let connectionID { metadata[FeedGapLogKey.connection] = "\(connectionID)" }
        // Subscribe and mode-change gaps are routine; the outages are worth a notice.
        let level: Logger.Level = reason == .subscribed || reason == .modeChanged ? .debug : .notice
        logger.log(level: level, "feed gap recorded", metadata: metadata)
        if lost > 0 {
            FeedMetrics.feedGapsDropped(lost)
            logger.error("feed gap queue full; gaps dropped", metadata: [FeedGapLogKey.reason: "\(reason.rawValue)", "gaps.dropped": "\(lost)"])
        }
        signal.notify()
    }

    /// Gaps waiting to be published.
    var pendingCount: Int { queue.withLock { $0.count } }

    /// Takes up to `limit` of the oldest pending gaps (the publisher puts back what Redis did not take).
    func take(_ limit: Int) -> [FeedGap] {
        queue.withLock { $0.takeFirst(limit) }
    }

    /// Puts back, in front, gaps that could not be published.
    func putBack(_ gaps: [FeedGap]) {
        let (lost, pending) = queue.withLock { queue in (queue.putBack(gaps), queue.count) }
        FeedMetrics.feedGapsPending(pending)
        if lost > 0 {
            FeedMetrics.feedGapsDropped(lost)
            logger.error("feed gap queue full; gaps dropped", metadata: ["gaps.dropped": "\(lost)"])
        }
    }

    /// Updates the pending gauge (after a publish).
    func reportPending() { FeedMetrics.feedGapsPending(pendingCount) }

    /// Returns when a gap was recorded (at once if one is waiting), after `timeout`, or when cancelled.
    func waitForWork(upTo timeout: Duration) async { await signal.wait(upTo: timeout) }

    /// Wakes a publisher waiting in ``waitForWork(upTo:)``.
    func wake() { signal.notify() }
}

/// Log metadata keys of the feed gaps.
enum FeedGapLogKey {
    static let reason = "gap.reason"
    static let startMS = "gap.start_ms"
    static let endMS = "gap.end_ms"
    static let durationMS = "gap.duration_ms"
    static let connection = "gap.connection"
}
