/// Groups the tick buffer's drops into episodes, so that an outage of Redis gives one `buffer_overflow` gap and one
/// log line, not one per frame. An episode ends once a frame was published again and nothing was dropped for
/// ``quietMillis`` (or when the publisher stops). Pure state, held under the sink's lock.
struct TickDropEpisodes: Sendable, Equatable {
    /// What one episode dropped.
    struct Episode: Sendable, Equatable {
        /// Ticks dropped.
        var ticks = 0
        /// Frames dropped.
        var frames = 0
        /// The instruments of the dropped ticks.
        var tokens: Set<UInt32> = []
        /// Receive time of the earliest and latest dropped frame, epoch ms.
        var firstReceivedMillis: Int64
        var lastReceivedMillis: Int64
        /// When the last drop happened (wall clock, epoch ms).
        var lastDropAtMillis: Int64
    }

    /// How long without a drop ends an episode.
    var quietMillis: Int64 = 1_000
    private(set) var current: Episode?

    /// Counts a dropped frame.
    /// - Parameters:
    ///   - ticks: Its ticks.
    ///   - tokens: Their instruments.
    ///   - receivedAtMillis: When the frame was received.
    ///   - nowMillis: Now.
    mutating func record(ticks: Int, tokens: some Sequence<UInt32>, receivedAtMillis: Int64, nowMillis: Int64) {
        var episode = current ?? Episode(firstReceivedMillis: receivedAtMillis, lastReceivedMillis: receivedAtMillis, lastDropAtMillis: nowMillis)
        episode.ticks += ticks
        episode.frames += 1
        episode.tokens.formUnion(tokens)
        episode.firstReceivedMillis = min(episode.firstReceivedMillis, receivedAtMillis)
        episode.lastReceivedMillis = max(episode.lastReceivedMillis, receivedAtMillis)
        episode.lastDropAtMillis = max(episode.lastDropAtMillis, nowMillis)
        current = episode
    }

    /// Ends the episode if nothing was dropped for ``quietMillis`` (call it after a frame was published).
    /// - Returns: The ended episode, if one ended.
    mutating func endIfQuiet(nowMillis: Int64) -> Episode? {
        guard let episode = current, nowMillis - episode.lastDropAtMillis >= quietMillis else { return nil }
        current = nil
        return episode
    }

    /// Ends the episode in progress whatever the time (the publisher stops).
    mutating func end() -> Episode? {
        defer { current = nil }
        return current
    }
}
