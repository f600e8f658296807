import Shared

/// The outage one broker connection is in, if any: from the moment it stopped delivering (its last message, or the
/// moment instruments were placed on a connection that was not open) to the first message of the session that
/// resubscribed them. Pure state, held under the connection's lock; the connection turns an ended outage into a
/// ``FeedGap`` through ``FeedGapRecorder``.
struct FeedGapTracker: Sendable, Equatable {
    /// An outage in progress.
    struct Outage: Sendable, Equatable {
        /// The first cause (a stall followed by failed handshakes stays a stall).
        var reason: FeedGap.Reason
        /// Epoch ms since which ticks may be missing.
        var startMillis: Int64
        /// Every instrument the connection carried at some point of the outage.
        var tokens: Set<UInt32>
    }

    /// An outage that ended: the span and the instruments of its gap.
    struct Ended: Sendable, Equatable {
        var reason: FeedGap.Reason
        var startMillis: Int64
        var endMillis: Int64
        var tokens: [UInt32]
    }

    private(set) var outage: Outage?

    /// Whether the connection is in an outage.
    var isOpen: Bool { outage != nil }

    /// Starts an outage, or widens the one in progress: its reason stays the first one, its start becomes the earlier
    /// of the two, and the instruments are added.
    /// - Parameters:
    ///   - reason: Why the connection is not streaming.
    ///   - startMillis: Since when (epoch ms).
    ///   - tokens: The instruments the connection carries.
    mutating func begin(_ reason: FeedGap.Reason, since startMillis: Int64, tokens: some Sequence<UInt32>) {
        if var current = outage {
            current.startMillis = min(current.startMillis, startMillis)
            current.tokens.formUnion(tokens)
            outage = current
        } else {
            outage = Outage(reason: reason, startMillis: startMillis, tokens: Set(tokens))
        }
    }

    /// Adds instruments placed on the connection during the outage in progress (nothing when there is none).
    mutating func include(_ tokens: some Sequence<UInt32>) {
        outage?.tokens.formUnion(tokens)
    }

    /// Ends the outage in progress at `endMillis` (never before its start).
    /// - Returns: The ended outage, or nil when there was none or it concerned no instrument.
    mutating func end(at endMillis: Int64) -> Ended? {
        guard let current = outage else { return nil }
        outage = nil
        guard !current.tokens.isEmpty else { return nil }
        return Ended(
            reason: current.reason, startMillis: current.startMillis, endMillis: max(current.startMillis, endMillis),
            tokens: current.tokens.sorted()
        )
    }
}
