import AsyncHTTPClient
import BrokerWire
import Logging
import SharedInstruments

/// Fetches historical candles from the broker's REST API for `/history`: one broker request per call (the caller keeps
/// the range within the interval's limit), on the broker the instrument streams from, paced per account
/// (``HistoryPacer``, with backfill's share, at each broker's rate) and retried by one ``HistoryRetryPolicy``.
///
/// **Which broker.** An instrument placed on a Dhan account, or placed nowhere when every account is Dhan, is fetched from
/// Dhan's charts API (``DhanHistoricalClient``) over the Dhan accounts; anything else from Kite's historical API
/// (``KiteHistoricalClient``) over the Kite accounts. Either way the candles come out as ``KiteCandle``s, which
/// `/history` writes in Kite's shape.
struct HistoricalClient: Sendable {
    let accounts: [BrokerAccount]
    /// Paces the Kite accounts at `HISTORY_REQUESTS_PER_SECOND` (Kite: 3).
    let pacer: HistoryPacer
    /// Paces the Dhan accounts at Dhan's Data-API rate (5 per second per client id).
    let dhanPacer: HistoryPacer
    let httpClient: HTTPClient
    let logger: Logger
    /// The instrument registry, for the instrument type Dhan's charts API asks for; nil: only indices and equities on Dhan.
    let instruments: (any InstrumentTokenLookup)?
    /// The account an instrument is placed on (``FeedManager/placement(of:)``), nil when it is placed nowhere.
    let placedAccount: @Sendable (UInt32) -> String?
    /// Attempts per request after 429s.
    var rateLimitedAttempts = 6
    /// Attempts per request after 5xx or network errors.
    var failureAttempts = 3
    /// Pause after a 429 before that account is used again.
    var rateLimitedPause: Duration = .seconds(1)
    /// Ceiling of the first retry delay after a 5xx (capped exponential backoff with full jitter, at most 8×).
    var failureBaseDelay: Duration = .milliseconds(200)
    /// An interactive request whose slot is further away than this is refused (429) instead of queued.
    var maxInteractiveWait: Duration = .seconds(20)

    /// - Parameters:
    ///   - configuration: Accounts and the Kite accounts' rate.
    ///   - httpClient: The HTTP client (default: the shared one).
    ///   - instruments: The instrument registry (Dhan's charts API needs each instrument's type).
    ///   - placedAccount: The id of the account an instrument is placed on, nil when none.
    ///   - logger: Logger; account ids go in metadata, never keys or tokens.
    init(
        configuration: FeedConfiguration, httpClient: HTTPClient = .shared, instruments: (any InstrumentTokenLookup)? = nil,
        placedAccount: @escaping @Sendable (UInt32) -> String? = { _ in nil }, logger: Logger
    ) {
        self.accounts = configuration.accounts
        self.pacer = HistoryPacer(requestsPerSecond: configuration.historyRequestsPerSecond)
        self.dhanPacer = HistoryPacer(requestsPerSecond: DhanHistoricalClient.requestsPerSecond)
        self.httpClient = httpClient
        self.instruments = instruments
        self.placedAccount = placedAccount
        self.logger = logger
    }

    /// The largest `to - from` one request may span for `interval`: Kite's per-request limit (Dhan's 90 days are checked
    /// when a request goes to Dhan).
    static func maxRange(_ interval: KiteCandleInterval) -> Int64 { Int64(interval.maxRangeDays) * 86_400 }

    var policy: HistoryRetryPolicy {
        HistoryRetryPolicy(
            rateLimitedAttempts: rateLimitedAttempts, failureAttempts: failureAttempts, rateLimitedPause: rateLimitedPause,
            failureBaseDelay: failureBaseDelay, maxInteractiveWait: maxInteractiveWait
        )
    }

    /// The broker whose historical API serves `token`.
    func broker(for token: UInt32) -> Broker {
        if let id = placedAccount(token), let account = accounts.first(where: { $0.id == id }) { return account.broker }
        return !accounts.isEmpty && accounts.allSatisfy({ $0.broker == .dhan }) ? .dhan : .kite
    }

    /// Sends the broker request for the candles of `token` starting in `[from, to]` (Unix seconds) and returns them as
    /// they can be read (Kite's answer still unread, to be streamed).
    /// - Parameter purpose: Which share of the pacing the request may use.
    func open(
        token: UInt32, interval: KiteCandleInterval, from: Int64, to: Int64, includeOI: Bool, purpose: HistoryPacer.Purpose
    ) async throws(HistoryError) -> HistoryCandleBatches {
        guard to - from <= Self.maxRange(interval) else {
            throw HistoryError(code: .invalidRequest, message: "range too large: interval \(interval.rawValue) allows at most \(interval.maxRangeDays) days per request")
        }
        switch broker(for: token) {
        case .kite:
            let requests = PacedHistoryRequests(accounts: accounts.filter { $0.broker == .kite }, pacer: pacer, policy: policy, logger: logger)
            let kite = KiteHistoricalClient(httpClient: httpClient)
            let body = try await requests.send(purpose: purpose) { account, credentials in
                await kite.attempt(
                    account: account, credentials: credentials, token: token, interval: interval, from: from, to: to, includeOI: includeOI, purpose: purpose
                )
            }
            return HistoryCandleBatches(source: .kite(body))
        case .dhan:
            let instrument: Instrument?
            do {
                instrument = try await instruments?.instrument(token: Int64(token))
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "the instrument registry could not be read: \(error)")
            }
            let chart = try DhanHistoricalClient.request(token: token, instrument: instrument, interval: interval, from: from, to: to, includeOI: includeOI)
            let requests = PacedHistoryRequests(accounts: accounts.filter { $0.broker == .dhan }, pacer: dhanPacer, policy: policy, logger: logger)
            let dhan = DhanHistoricalClient(httpClient: httpClient)
            let candles = try await requests.send(purpose: purpose) { account, credentials in
                await dhan.attempt(account: account, credentials: credentials, request: chart, purpose: purpose)
            }
            return HistoryCandleBatches(source: .candles(candles))
        }
    }
}
