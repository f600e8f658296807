import Shared
import SharedBasics
import SharedRedis

/// The latest quote of each instrument, read from the `{prefix}:quote:{token}` hashes TickerService keeps (one
/// pipelined `HGETALL` per call, whatever the number of tokens). An instrument without a hash, or whose hash does not
/// parse, has no quote: it is absent from the answer, never invented.
struct LiveQuotes: Sendable {
    let redis: RedisClient
    let channels: EventChannels

    /// The quotes there are, by token.
    /// - Parameter tokens: Instrument tokens; duplicates are fine.
    func quotes(_ tokens: [Int64]) async throws -> [Int64: QuoteBody] {
        let unique = Array(Set(tokens))
        guard !unique.isEmpty else { return [:] }
        var replies: [RESPValue] = []
        replies.reserveCapacity(unique.count)
        // In pipelines of 500, so one call for a whole watchlist does not build one huge request.
        for chunk in unique.chunked(500) { replies += try await redis.pipeline(chunk.map { ["HGETALL", channels.latestQuoteKey($0)] }) }
        var result: [Int64: QuoteBody] = [:]
        for (token, reply) in zip(unique, replies) {
            let fields = reply.fieldDictionary
            guard !fields.isEmpty, let entry = try? TickStreamEntry(fields: fields), entry.instrumentToken == token else { continue }
            result[token] = QuoteBody(entry)
        }
        return result
    }

    /// One instrument's quote.
    func quote(_ token: Int64) async throws -> QuoteBody? { try await quotes([token])[token] }
}
