/// One subscription event: an instrument gained its first holder (`subscription_created`) or lost its last
/// (`subscription_removed`).
///
/// The JSON is seed 000's (`event_type`, `instrument_token`, `metadata{tradingsymbol, segment,
/// requested_mode, account_id}`, `timestamp` in epoch seconds) plus seed 001's top-level `tradingsymbol`, a
/// unique `event_id`, the publisher's `sequence` and `schema_version`. Decode with
/// ``SubscriptionEventCodec/decode(_:)``, which also accepts the legacy and webhook spellings.
public struct SubscriptionEvent: Sendable, Equatable {
    /// The two kinds of event.
    public enum Kind: String, Sendable, CaseIterable {
        case created = "subscription_created"
        case removed = "subscription_removed"
    }

    /// Instrument details carried with the event.
    public struct Metadata: Sendable, Equatable {
        /// e.g. `NIFTY25NOV24500CE`.
        public var tradingsymbol: String?
        /// e.g. `NFO` or `NFO-OPT`.
        public var segment: String?
        /// The mode asked for, e.g. `FULL`.
        public var requestedMode: SubscriptionMode?
        /// The broker account serving the instrument.
        public var accountID: String?

        /// Creates metadata.
        /// - Parameters:
        ///   - tradingsymbol: The instrument's trading symbol.
        ///   - segment: Its segment.
        ///   - requestedMode: The mode asked for.
        ///   - accountID: The broker account serving it.
        public init(tradingsymbol: String? = nil, segment: String? = nil, requestedMode: SubscriptionMode? = nil, accountID: String? = nil) {
            self.tradingsymbol = tradingsymbol
            self.segment = segment
            self.requestedMode = requestedMode
            self.accountID = accountID
        }
    }

    /// The current schema version written by publishers.
    public static let currentSchemaVersion = 1

    /// Unique id; consumers use it to do an event's work once. Legacy payloads without one get a
    /// deterministic id derived from kind, token and timestamp.
    public var eventID: String
    /// The kind.
    public var kind: Kind
    /// The instrument.
    public var instrumentToken: Int64
    /// Top-level trading symbol (seed 001); falls back to `metadata.tradingsymbol`.
    public var tradingsymbol: String?
    /// Instrument details.
    public var metadata: Metadata
    /// When the change happened, in seconds since 1970 (fractions kept when given).
    public var timestamp: Double
    /// Position in the publisher's sequence, when the publisher is ours.
    public var sequence: Int64?
    /// Schema version of the payload (1 for legacy payloads without one).
    public var schemaVersion: Int

    /// Creates an event.
    /// - Parameters:
    ///   - eventID: Unique id.
    ///   - kind: Created or removed.
    ///   - instrumentToken: The instrument.
    ///   - tradingsymbol: Its trading symbol.
    ///   - metadata: Instrument details.
    ///   - timestamp: Seconds since 1970.
    ///   - sequence: The publisher's sequence number.
    ///   - schemaVersion: Payload schema version.
    public init(
        eventID: String,
        kind: Kind,
        instrumentToken: Int64,
        tradingsymbol: String?,
        metadata: Metadata,
        timestamp: Double,
        sequence: Int64?,
        schemaVersion: Int = SubscriptionEvent.currentSchemaVersion
    ) {
        self.eventID = eventID
        self.kind = kind
        self.instrumentToken = instrumentToken
        self.tradingsymbol = tradingsymbol ?? metadata.tradingsymbol
        self.metadata = metadata
        self.timestamp = timestamp
        self.sequence = sequence
        self.schemaVersion = schemaVersion
    }
}
