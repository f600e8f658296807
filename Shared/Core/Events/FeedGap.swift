/// A span of time in which the ticks of some instruments may be incomplete, so the tick-built minutes it touches are
/// suspect and must be repaired from the broker's candles (docs/bars.md, "Suspect minutes and repair").
///
/// TickerService writes one for every such span on the stream ``EventChannels/feedGapsStream``; BackendService reads
/// them, marks every minute of `[startMillis, endMillis]` of each instrument suspect, and re-backfills those minutes
/// once they are closed. Encode and decode with ``FeedGapCodec``.
public struct FeedGap: Sendable, Equatable {
    /// Why ticks may be missing.
    public enum Reason: String, Sendable, CaseIterable {
        /// The connection was silent longer than the staleness watchdog allows, and was reconnected.
        case stall
        /// The connection closed or failed, and was reconnected.
        case drop
        /// Any other time without a streaming session (a handshake that failed, backoff, a restart of the service).
        case reconnect
        /// The tick buffer dropped ticks because Redis could not take them.
        case bufferOverflow = "buffer_overflow"
        /// The instrument was subscribed during the span: its first minute holds only the ticks after the subscribe.
        case subscribed
        /// The instrument's mode changed during the span.
        case modeChanged = "mode_changed"
        /// BackendService's tick consumer skipped or dead-lettered entries of the instrument.
        case ticksSkipped = "ticks_skipped"
        /// BackendService found entries `{prefix}:ticks` trimmed before its tick-bar group read them (it fell behind by
        /// more than the stream holds); not sent by TickerService.
        case ticksTrimmed = "ticks_trimmed"

        /// Whether ticks may be missing in the span (not only before it, as for a new subscription or mode).
        public var losesTicks: Bool {
            switch self {
            case .subscribed, .modeChanged: false
            default: true
            }
        }
    }

    /// The current schema version written by publishers.
    public static let currentSchemaVersion = 1

    /// Unique id; consumers use it to do a gap's work once.
    public var gapID: String
    /// Why ticks may be missing.
    public var reason: Reason
    /// The broker account whose connection had the gap, when one did.
    public var accountID: String?
    /// The connection (e.g. `kite-main#0`), when one had the gap.
    public var connectionID: String?
    /// First moment ticks may be missing, epoch milliseconds.
    public var startMillis: Int64
    /// Last moment ticks may be missing, epoch milliseconds; never before `startMillis`.
    public var endMillis: Int64
    /// The instruments concerned (positive tokens, each once).
    public var instrumentTokens: [Int64]
    /// Schema version of the payload.
    public var schemaVersion: Int

    /// Creates a gap.
    /// - Parameters:
    ///   - gapID: Unique id.
    ///   - reason: Why ticks may be missing.
    ///   - accountID: The broker account, when a connection had the gap.
    ///   - connectionID: The connection, when one had the gap.
    ///   - startMillis: First moment, epoch ms.
    ///   - endMillis: Last moment, epoch ms.
    ///   - instrumentTokens: The instruments concerned.
    ///   - schemaVersion: Payload schema version.
    public init(
        gapID: String,
        reason: Reason,
        accountID: String? = nil,
        connectionID: String? = nil,
        startMillis: Int64,
        endMillis: Int64,
        instrumentTokens: [Int64],
        schemaVersion: Int = FeedGap.currentSchemaVersion
    ) {
        self.gapID = gapID
        self.reason = reason
        self.accountID = accountID
        self.connectionID = connectionID
        self.startMillis = startMillis
        self.endMillis = endMillis
        self.instrumentTokens = instrumentTokens
        self.schemaVersion = schemaVersion
    }

    /// The minutes the gap touches, as the epoch second of each minute's start (UTC-aligned, which is IST-aligned).
    public var touchedMinuteStarts: [Int64] {
        let first = Self.minuteStart(ofMillis: startMillis)
        let last = Self.minuteStart(ofMillis: max(startMillis, endMillis))
        return Array(stride(from: first, through: last, by: 60))
    }

    /// The minutes whose tick bars the gap can make wrong: every minute it touches and, when ticks may have been lost in
    /// it (every reason but `subscribed` and `mode_changed`), the minute after its last. A minute's volume is counted
    /// from the previous minute's last cumulative volume, so a tick lost at the end of the gap's last minute moves its
    /// volume into the next minute, which no lost tick belongs to.
    public var suspectMinuteStarts: [Int64] {
        var minutes = touchedMinuteStarts
        if reason.losesTicks, let last = minutes.last { minutes.append(last + 60) }
        return minutes
    }

    /// The epoch second of the start of the minute holding `millis`.
    /// - Parameter millis: Epoch milliseconds.
    public static func minuteStart(ofMillis millis: Int64) -> Int64 {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return seconds - ((seconds % 60) + 60) % 60
    }
}
