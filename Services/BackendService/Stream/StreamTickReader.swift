import Logging
import ServiceLifecycle
import Shared
import SharedBasics
import SharedRedis

/// Reads `{prefix}:ticks` with plain `XREAD BLOCK` (no consumer group: every BackendService instance must see every
/// tick, because each serves its own stream clients) and hands the streamed instruments' quotes to the ``StreamHub``.
///
/// It starts after the newest entry at startup (a new client gets the latest quote from the quote hash instead) and
/// never waits for a client: publishing only fills the clients' conflating queues.
struct StreamTickReader: Service {
    /// Holds the blocking reads, so it must not be shared with request handlers.
    let redis: RedisClient
    let stream: String
    let hub: StreamHub
    let logger: Logger
    var readCount = 2_000
    /// Below the Redis client's command timeout, so a quiet stream is not a timeout.
    var block: Duration = .milliseconds(500)

    static let backoff = Backoff(base: .milliseconds(200), cap: .seconds(5))
    /// The fields a ``QuoteBody`` reads.
    static let quoteFields: TickStreamEntry.FieldSet = [
        .receivedAtMillis, .volume, .close, .lastTradeTime, .openInterest, .exchangeTimestamp, .depth, .broker,
    ]

    func run() async throws {
        logger.info("quote stream tick reader starting", metadata: [LogKey.stream: "\(stream)"])
        defer { logger.info("quote stream tick reader stopped") }
        var lastID: String?
        var failures = 0
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            do {
                if lastID == nil { lastID = try await newestID() }
                let entries = try await read(after: lastID ?? "0-0")
                failures = 0
                guard let last = entries.last else { continue }
                lastID = last.id
                hub.publish(quotes(of: entries), ticksRead: entries.count)
            } catch {
                if (Task.isCancelled || Task.isShuttingDownGracefully) { break }
                failures += 1
                logger.warning("quote stream tick read failed; retrying", metadata: [LogKey.error: "\(error)"])
                try? await Task.sleep(for: Self.backoff.delay(afterFailures: failures))
            }
        }
        await redis.close()
    }

    /// The id of the stream's newest entry, `0-0` when it is empty or missing.
    func newestID() async throws -> String {
        let reply = try await redis.send(["XREVRANGE", stream, "+", "-", "COUNT", "1"])
        return reply.array?.first?.array?.first?.string ?? "0-0"
    }

    /// One `XREAD COUNT n BLOCK ms STREAMS stream id`.
    func read(after id: String) async throws -> [(id: String, fields: [String: String])] {
        let reply = try await redis.send(["XREAD", "COUNT", String(readCount), "BLOCK", String(block.components.seconds * 1_000 + block.components.attoseconds / 1_000_000_000_000_000), "STREAMS", stream, id])
        guard let perStream = reply.array else { return [] }
        var entries: [(id: String, fields: [String: String])] = []
        for item in perStream {
            guard let pair = item.array, pair.count == 2, let list = pair[1].array else { continue }
            entries.reserveCapacity(entries.count + list.count)
            for raw in list {
                guard let entry = raw.array, entry.count == 2, let entryID = entry[0].string else { continue }
                entries.append((entryID, entry[1].fieldDictionary))
            }
        }
        return entries
    }

    /// The quotes of the entries some client streams, in stream order; malformed entries are skipped.
    func quotes(of entries: [(id: String, fields: [String: String])]) -> [QuoteBody] {
        var tokens: [Int64] = []
        tokens.reserveCapacity(entries.count)
        for entry in entries { tokens.append(entry.fields[TickStreamEntry.Field.instrumentToken].flatMap { Int64($0) } ?? 0) }
        let streamed = hub.streamed(among: Set(tokens))
        guard !streamed.isEmpty else { return [] }
        var quotes: [QuoteBody] = []
        for (index, entry) in entries.enumerated() where streamed.contains(tokens[index]) {
            guard let tick = try? TickStreamEntry(fields: entry.fields, decoding: Self.quoteFields) else { continue }
            quotes.append(QuoteBody(tick))
        }
        return quotes
    }
}
