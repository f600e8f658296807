import Foundation
import Logging
import ServiceLifecycle
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
        var state = State()
        var groupReady = false
        var failures = 0
        var lastFlush = ContinuousClock.now
        var lastClaim: ContinuousClock.Instant?
        let block = min(settings.flushInterval, .milliseconds(500))
        logger.info("tick bar consumer starting", metadata: ["stream": "\(settings.stream)", "group": "\(settings.group)", "consumer": "\(settings.consumer)"])

        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if !groupReady {
                    try await redis.xgroupCreate(settings.stream, group: settings.group, startID: settings.startID, makeStream: true)
                    groupReady = true
                }
                let now = ContinuousClock.now
                if state.builder.dirtyCount > 0 || !state.unacknowledged.isEmpty,
                    state.flushRequested || now - lastFlush >= settings.flushInterval || state.unacknowledged.count >= settings.maxUnacknowledged
                {
                    try await flush(&state)
                    lastFlush = ContinuousClock.now
                } else if state.builder.dirtyCount == 0 && state.unacknowledged.isEmpty {
                    lastFlush = now
                }
                if lastClaim.map({ now - $0 >= max(settings.claimIdle / 2, .milliseconds(100)) }) ?? true {
                    try await claimAbandoned(&state)
                    lastClaim = ContinuousClock.now
                }
                let entries = try await cancelWhenGracefulShutdown {
                    try await redis.xreadgroup(group: settings.group, consumer: settings.consumer, streams: [settings.stream], count: settings.readCount, block: block)
                }
                fold(entries, into: &state)
                failures = 0
            } catch is CancellationError {
                break
            } catch {
                if let redisError = error as? RedisError, redisError.serverErrorPrefix == "NOGROUP" { groupReady = false }
                failures += 1
                logger.error("tick bar consumer failed; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                let delay = Self.backoff.delay(afterFailures: failures)
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    break
                }
            }
        }
        // Best effort: what is not written here stays pending and is claimed after the restart.
        if !Task.isCancelled, state.builder.dirtyCount > 0 || !state.unacknowledged.isEmpty {
            do {
                try await flush(&state)
            } catch {
                logger.warning("final tick bar flush failed; the entries stay pending", metadata: ["error": "\(error)"])
            }
        }
        logger.info("tick bar consumer stopped")
    }

    /// What the loop carries between reads.
    struct State {
        var builder = MinuteBarBuilder()
        var unacknowledged: [String] = []
        var flushRequested = false
    }

    func fold(_ entries: [RedisStreamEntry], into state: inout State) {
        guard !entries.isEmpty else { return }
        var malformed = 0
        for entry in entries {
            state.unacknowledged.append(entry.id)
            do {
                let tick = try StreamedTick(id: entry.id, fields: entry.fields)
                if state.builder.add(tick) { state.flushRequested = true }
            } catch {
                malformed += 1
                logger.debug("malformed tick entry skipped", metadata: ["id": "\(entry.id)", "reason": "\(error.reason)"])
            }
        }
        MarketMetrics.consumed(entries.count - malformed)
        if malformed > 0 { MarketMetrics.malformed(malformed) }
    }

    /// Writes the changed bars, then acknowledges every entry folded in since the last flush.
    func flush(_ state: inout State) async throws {
        let bars = state.builder.dirtyBars()
        do {
            let written = try await writer.write(bars)
            MarketMetrics.written(written)
        } catch {
            MarketMetrics.flushFailed()
            throw error
        }
        state.builder.markWritten()
        state.flushRequested = false
        var start = 0
        while start < state.unacknowledged.count {
            let end = min(start + 10_000, state.unacknowledged.count)
            try await redis.xack(settings.stream, group: settings.group, ids: Array(state.unacknowledged[start..<end]))
            start = end
        }
        state.unacknowledged.removeAll(keepingCapacity: true)
    }

    /// Takes over entries other consumers left pending longer than `claimIdle`.
    func claimAbandoned(_ state: inout State) async throws {
        var cursor = "0-0"
        var claimed = 0
        repeat {
            let (next, entries) = try await redis.xautoclaim(
                settings.stream, group: settings.group, consumer: settings.consumer, minIdle: settings.claimIdle, start: cursor, count: settings.readCount
            )
            fold(entries, into: &state)
            claimed += entries.count
            cursor = next
        } while cursor != "0-0" && claimed < settings.maxUnacknowledged
        if claimed > 0 {
            MarketMetrics.claimed(claimed)
            logger.info("claimed tick entries left pending by another consumer", metadata: ["count": "\(claimed)"])
        }
    }
}
