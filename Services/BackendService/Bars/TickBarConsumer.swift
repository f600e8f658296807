import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedBasics
import SharedRedis

/// Builds 1-minute bars from the `{prefix}:ticks` stream with a consumer group (docs/bars.md).
///
/// Entries are folded into a ``MinuteBarBuilder``; the open bars are written in bulk every `flushInterval` and when a
/// new minute starts, and the entries are acknowledged only after the write committed. Entries another consumer left
/// unacknowledged for `claimIdle` (it crashed, or this process restarted under a new name) are claimed and folded in
/// again; the database merge makes that safe, so a restart neither loses nor double-counts a tick.
struct TickBarConsumer: Service {
    struct Settings: Sendable {
        var stream: String
        var group: String
        /// This consumer's name in the group; unique per process.
        var consumer: String
        /// Where a newly created group starts: `$` (new ticks only) or `0` (the whole stream).
        var startID = "$"
        var readCount = 5_000
        var flushInterval: Duration = .seconds(1)
        var claimIdle: Duration = .seconds(30)
        /// Unacknowledged entries held before a write is forced.
        var maxUnacknowledged = 200_000
    }

    /// The blocking reads hold this connection, so it must not be shared with request handlers.
    let redis: RedisClient
    let writer: TickBarWriter
    let settings: Settings
    let logger: Logger

    /// After a failed read or write: 200 ms doubling to 5 s (the old `100 << min(n, 6)` ms, capped at 5 s).
    static let backoff = Backoff(base: .milliseconds(200), cap: .seconds(5))

    /// A consumer name unique to this process: `bars-<host>-<pid>`.
    static func defaultConsumerName() -> String {
        "bars-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    func run() async throws {
        logger.info("tick bar consumer starting", metadata: [
            LogKey.stream: "\(settings.stream)", LogKey.group: "\(settings.group)", LogKey.consumer: "\(settings.consumer)",
        ])
        let consumer = StreamGroupConsumer(
            redis: redis,
            settings: .init(
                stream: settings.stream, group: settings.group, consumer: settings.consumer, startID: settings.startID, readCount: settings.readCount,
                block: min(settings.flushInterval, .milliseconds(500)), claimMinIdle: settings.claimIdle,
                claimEvery: max(settings.claimIdle / 2, .milliseconds(100)), maxClaimedPerLook: settings.maxUnacknowledged,
                failureBackoff: Self.backoff, claimedCounter: MarketMetrics.ticksClaimed, countsTrimmed: true,
                messages: .init(
                    failed: "tick bar consumer failed; retrying", groupCreateFailed: "tick bar consumer failed; retrying",
                    acknowledgeFailed: "tick bar consumer failed; retrying",
                    claimedEntries: "claimed tick entries left pending by another consumer", stopped: "tick bar consumer stopped"
                )
            ),
            handler: TickBarFolder(writer: writer, settings: settings, logger: logger),
            logger: logger
        )
        await consumer.run()
    }
}

/// Folds tick entries into a ``MinuteBarBuilder`` and writes the open bars in bulk every `flushInterval`, when a new
/// minute starts and when `maxUnacknowledged` entries are held; the entries folded since the last write are
/// committed (and so acknowledged) only when the write is.
struct TickBarFolder: StreamBatchHandler {
    let writer: TickBarWriter
    let settings: TickBarConsumer.Settings
    let logger: Logger
    var builder = MinuteBarBuilder()
    /// Entries folded in since the last write.
    var held: [String] = []
    /// Minutes of skipped entries that named their instrument, marked suspect with the next write.
    var skipped = Set<TickBarWriter.SkippedMinute>()
    var flushRequested = false
    var lastFlush = ContinuousClock.now
    /// Minutes already marked `ticks_trimmed` by this consumer.
    var trimMarkedMinutes = Set<Int64>()

    init(writer: TickBarWriter, settings: TickBarConsumer.Settings, logger: Logger) {
        self.writer = writer
        self.settings = settings
        self.logger = logger
    }

    mutating func handle(_ batch: [StreamDelivery]) async throws -> StreamBatchVerdict {
        var malformed = 0
        for delivery in batch {
            let entry = delivery.entry
            held.append(entry.id)
            do {
                let tick = try StreamedTick(id: entry.id, fields: entry.fields)
                if builder.add(tick) { flushRequested = true }
            } catch {
                malformed += 1
                if let minute = Self.skippedMinute(entry) { skipped.insert(minute) }
                logger.debug("malformed tick entry skipped", metadata: [LogKey.entryID: "\(entry.id)", LogKey.reason: "\(error.reason)"])
            }
        }
        MarketMetrics.consumed(batch.count - malformed)
        if malformed > 0 { MarketMetrics.malformed(malformed) }
        return .none
    }

    mutating func poll() async throws -> StreamBatchVerdict {
        let now = ContinuousClock.now
        let holding = builder.dirtyCount > 0 || !held.isEmpty || !skipped.isEmpty
        if holding, flushRequested || now - lastFlush >= settings.flushInterval || held.count >= settings.maxUnacknowledged {
            let verdict = try await flush()
            lastFlush = ContinuousClock.now
            return verdict
        }
        if !holding { lastFlush = now }
        return .none
    }

    mutating func finish() async -> StreamBatchVerdict {
        guard builder.dirtyCount > 0 || !held.isEmpty else { return .none }
        do {
            return try await flush()
        } catch {
            logger.warning("final tick bar flush failed; the entries stay pending", metadata: [LogKey.error: "\(error)"])
            return .none
        }
    }

    /// Ticks the stream trimmed before this group read them (BackendService fell behind by more than `{prefix}:ticks`
    /// holds): counted, logged, and the minutes they spanned marked suspect for every instrument this consumer saw
    /// ticking lately (those after the gap included), so the repair replaces those bars with the broker's candles
    /// instead of leaving them short.
    mutating func trimmed(_ loss: StreamTrimLoss) async {
        MarketMetrics.trimmedUnread()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let to = loss.beforeID.flatMap { StreamedTick.parseID($0)?.0 } ?? now
        let from = loss.afterID.flatMap { StreamedTick.parseID($0)?.0 }.flatMap { $0 > 0 ? $0 : nil } ?? to
        // A consumer far behind skips many short spans over the same few minutes: each minute is marked once.
        let minutes = Array(stride(from: FeedGap.minuteStart(ofMillis: from), through: FeedGap.minuteStart(ofMillis: max(from, to)), by: 60))
            .filter { !trimMarkedMinutes.contains($0) }
        guard !minutes.isEmpty else { return }
        if trimMarkedMinutes.count > 10_000 { trimMarkedMinutes.removeAll() }
        trimMarkedMinutes.formUnion(minutes)
        let tokens = builder.recentTokens
        do {
            let marked = try await writer.markTrimmed(tokens: tokens, minutes: minutes)
            RepairMetrics.marked(marked, reason: FeedGap.Reason.ticksTrimmed.rawValue)
            logger.warning(
                "tick entries trimmed from the stream before they were read; their minutes are marked suspect",
                metadata: [LogKey.minutes: "\(marked)", LogKey.entryID: "\(loss.afterID ?? "-")…\(loss.beforeID ?? "-")"]
            )
        } catch {
            logger.error(
                "tick entries trimmed from the stream before they were read; their minutes could not be marked",
                metadata: [LogKey.entryID: "\(loss.afterID ?? "-")…\(loss.beforeID ?? "-")", LogKey.error: "\(error)"]
            )
        }
    }

    /// The minute of an entry that could not be folded in, when its instrument token can be read: the minute of its
    /// stream id (TickerService writes ticks as they arrive, so that is the tick's minute or the next).
    static func skippedMinute(_ entry: RedisStreamEntry) -> TickBarWriter.SkippedMinute? {
        guard let text = entry.fields[TickStreamEntry.Field.instrumentToken], let token = Int64(text), token > 0,
              let (millis, _) = StreamedTick.parseID(entry.id) else { return nil }
        return TickBarWriter.SkippedMinute(instrumentToken: token, minute: FeedGap.minuteStart(ofMillis: millis))
    }

    /// Writes the changed bars; then every entry folded in since the last write is committed.
    private mutating func flush() async throws -> StreamBatchVerdict {
        let bars = builder.dirtyBars()
        do {
            let written = try await writer.write(bars, skipped: skipped)
            MarketMetrics.written(written)
            RepairMetrics.marked(skipped.count, reason: FeedGap.Reason.ticksSkipped.rawValue)
        } catch {
            MarketMetrics.flushFailed()
            throw error
        }
        builder.markWritten()
        skipped.removeAll(keepingCapacity: true)
        flushRequested = false
        defer { held.removeAll(keepingCapacity: true) }
        return StreamBatchVerdict(succeeded: held)
    }
}
