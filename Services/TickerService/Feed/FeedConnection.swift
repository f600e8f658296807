import AsyncHTTPClient
import BrokerWire
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Shared
import SharedBasics
import Synchronization

/// What a broker connection is doing (`/health` and the `ticker_feed_connection_state` gauge show it).
enum FeedConnectionPhase: String, Sendable {
    /// No instruments: the socket is closed (connections open lazily).
    case idle
    /// Opening the WebSocket.
    case connecting
    /// Open; the instruments are subscribed.
    case streaming
    /// Waiting before the next attempt.
    case backoff
    /// The watchdog found it silent for too long; it is being reconnected.
    case stalled
    /// The broker refused the credentials (403 on the upgrade), or they cannot be read; not retried until they change.
    case credentialsRejected = "credentials_rejected"

    /// What `/health` shows: the phase, except that a streaming connection silent for longer than
    /// ``FeedConfiguration/staleReportAfter`` is `stale` (the watchdog has not fired yet).
    static let staleStateName = "stale"
}

/// One ticker WebSocket of one account, of either broker: a long-lived loop that keeps the socket open while it holds instruments,
/// reconnects with capped exponential backoff and jitter, resubscribes everything in its mode after every reconnect,
/// and is reconnected by a staleness watchdog when it delivers nothing (not even heartbeats).
///
/// The instruments it should stream (``desired``) change at any time through ``add(_:)`` and ``remove(_:)``; while the
/// socket is open each change is sent at once as an incremental request, so no other instrument is disturbed.
///
/// Everything protocol-specific (the URL, the request messages, what a binary message is) comes from the account's
/// ``FeedWire``: ``KiteFeedWire`` or ``DhanFeedWire``; placement, backoff, the watchdog, feed gaps and `/health` are
/// the same for both.
final class FeedConnection: Sendable {
    let account: BrokerAccount
    /// 1-based index within the account.
    let connectionID: Int
    /// Instruments it may carry: the account's limit, or less once the broker refused more (Dhan's 804).
    var capacity: Int { state.withLock { capacity(of: $0) } }
    let wire: any FeedWire

    private let configuration: FeedConfiguration
    private let sink: TickSink
    private let gaps: FeedGapRecorder
    private let httpClient: HTTPClient
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeStream: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let overflow = Mutex<(@Sendable ([FeedInstrument]) -> Void)?>(nil)

    private struct State {
        var desired: [UInt32: KiteMode] = [:]
        var phase: FeedConnectionPhase = .idle
        var lastMessage: ContinuousClock.Instant?
        var lastMessageWall: Double?
        /// Requests for the open socket; nil while none is open (the next session resubscribes from ``desired``).
        var live: AsyncStream<FeedRequestMessage>.Continuation?
        /// Instruments the session's subscribe messages listed so far, and before the last one (Dhan's 804).
        var subscribedSent = 0
        var subscribedBeforeLast = 0
        /// The most instruments the broker accepted on this connection, once it refused more.
        var brokerLimit: Int?
        var end: SessionEnd?
        var receivedInSession = false
        var sessions = 0
        /// Why the connection waits (`http_429`, `dropped`, `stale`, ...) and when it tries again, while in backoff
        /// or credentials_rejected.
        var waitReason: String?
        var nextAttemptWall: Double?
        var nextAttempt: ContinuousClock.Instant?
        /// The outage in progress (not streaming for instruments it carries), recorded as a feed gap when it ends.
        var outage = FeedGapTracker()
    }

    enum SessionEnd: Sendable, Equatable {
        case emptied, dropped, stale, handshakeTimeout, forbidden, rateLimited, failed(String), cancelled
        /// The upgrade was refused with this status (other than 401, 403 and 429), or an unknown one.
        case refused(Int?)
        /// The broker sent its disconnect packet with this reason (Dhan: 804, 805, 806–809).
        case brokerDisconnect(UInt16)
    }

    init(
        account: BrokerAccount, connectionID: Int, configuration: FeedConfiguration, sink: TickSink, gaps: FeedGapRecorder = FeedGapRecorder(),
        httpClient: HTTPClient, logger: Logger
    ) {
        self.account = account
        self.connectionID = connectionID
        self.configuration = configuration
        self.sink = sink
        self.gaps = gaps
        self.httpClient = httpClient
        self.wire = account.broker.wire(batchSize: configuration.requestBatchSize)
        var logger = logger
        logger[metadataKey: "account"] = "\(account.id)"
        logger[metadataKey: "connection"] = "\(connectionID)"
        self.logger = logger
        (wakeStream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Instruments

    /// Adds instruments or changes their mode; sent to the open socket at once (subscribe, then mode, batched).
    /// - Parameters:
    ///   - items: Tokens and modes.
    ///   - outageSince: Epoch ms since which these instruments have not been streamed, when known (subscriptions
    ///     restored at startup: the last tick of the previous run); otherwise now. Used when the connection is not open.
    func add(_ items: [(token: UInt32, mode: KiteMode)], outageSince: Int64? = nil) {
        guard !items.isEmpty else { return }
        state.withLock { state in
            var fresh: [UInt32] = []
            var freshItems: [FeedInstrument] = []
            var modes: [KiteMode: [UInt32]] = [:]
            for (token, mode) in items {
                let old = state.desired.updateValue(mode, forKey: token)
                if old == nil {
                    fresh.append(token)
                    freshItems.append(FeedInstrument(token: token, mode: mode))
                } else if old != mode {
                    modes[mode, default: []].append(token)
                }
            }
            if state.outage.isOpen {
                state.outage.include(fresh)
            } else if state.live == nil, !fresh.isEmpty {
                // Placed on a connection that is not open: not streamed until a session opens and delivers.
                state.outage.begin(.reconnect, since: outageSince ?? Self.nowMillis(), tokens: state.desired.keys)
            }
            guard let live = state.live else { return }
            var changes: [FeedChange] = freshItems.isEmpty ? [] : [.subscribe(freshItems)]
            for mode in KiteMode.allCases { if let tokens = modes[mode] { changes.append(.setMode(mode, tokens)) } }
            for change in changes {
                for message in wire.messages(for: change) { live.yield(message) }
            }
        }
        wake.yield(())
    }

    /// Removes instruments; an unsubscribe goes to the open socket. When none is left the socket is closed.
    func remove(_ tokens: [UInt32]) {
        let ended = state.withLock { state -> FeedGapTracker.Ended? in
            var gone: [FeedInstrument] = []
            for token in tokens {
                if let mode = state.desired.removeValue(forKey: token) { gone.append(FeedInstrument(token: token, mode: mode)) }
            }
            // Nothing left to stream: an outage in progress ends here (its instruments were carried until now).
            let ended = state.desired.isEmpty ? state.outage.end(at: Self.nowMillis()) : nil
            guard let live = state.live, !gone.isEmpty else { return ended }
            for message in wire.messages(for: .unsubscribe(gone)) { live.yield(message) }
            if state.desired.isEmpty {
                live.finish()
                state.live = nil
            }
            return ended
        }
        if let ended { recordGap(ended) }
    }

    var instrumentCount: Int { state.withLock { $0.desired.count } }
    /// The modes of those of `tokens` this connection carries.
    func modes(of tokens: [UInt32]) -> [UInt32: KiteMode] {
        state.withLock { state in
            var found: [UInt32: KiteMode] = [:]
            for token in tokens { if let mode = state.desired[token] { found[token] = mode } }
            return found
        }
    }
    var phase: FeedConnectionPhase { state.withLock { $0.phase } }
    /// Number of sessions (socket openings) so far.
    var sessionCount: Int { state.withLock { $0.sessions } }

    func status() -> FeedConnectionStatus {
        let now = ContinuousClock.now
        return state.withLock { state in
            let silence = state.lastMessage.map { now - $0 }
            var name = state.phase.rawValue
            if state.phase == .streaming, let silence, silence > configuration.staleReportAfter { name = FeedConnectionPhase.staleStateName }
            let waiting = state.phase == .backoff || state.phase == .credentialsRejected
            return FeedConnectionStatus(
                accountID: account.id, connectionID: connectionID, state: name, instruments: state.desired.count,
                capacity: capacity(of: state), broker: account.broker.rawValue, lastMessageAt: state.lastMessageWall,
                lastMessageAgeMilliseconds: state.phase == .idle ? nil : silence.map { Int($0.wholeMilliseconds) },
                reason: waiting ? state.waitReason : nil,
                nextAttemptAt: waiting ? state.nextAttemptWall : nil,
                nextAttemptInMilliseconds: waiting ? state.nextAttempt.map { max(0, Int(($0 - now).wholeMilliseconds)) } : nil
            )
        }
    }

    private func capacity(of state: State) -> Int {
        state.brokerLimit.map { min($0, account.instrumentsPerConnection) } ?? account.instrumentsPerConnection
    }

    /// Where instruments go that the broker refused on this connection (Dhan's 804); ``FeedManager`` places them on
    /// other connections.
    func onOverflow(_ handler: @escaping @Sendable ([FeedInstrument]) -> Void) {
        overflow.withLock { $0 = handler }
    }

    // MARK: Lifecycle

    /// Runs until cancelled: waits for instruments, connects, streams, and reconnects as documented in docs/feed.md.
    func run() async {
        var wakeups = wakeStream.makeAsyncIterator()
        var attempt = 0
        var rejected: BrokerCredentials?
        /// Why they were refused (`http_403`, `dhan_808`), shown while they stay the same.
        var rejectedReason = "http_403"
        defer {
            setPhase(.idle)
            // Stopping (shutdown): an outage in progress ends now; the next run's restart gap covers the rest.
            endOutage()
        }
        while !Task.isCancelled {
            if instrumentCount == 0 {
                setPhase(.idle)
                guard await wakeups.next() != nil else { return }
                continue
            }
            let credentials: BrokerCredentials
            do {
                credentials = try account.loadCredentials()
            } catch {
                logger.error("cannot read the account's credentials", metadata: ["error": "\(error.message)"])
                setPhase(.credentialsRejected, waiting: "credentials_unreadable", for: configuration.forbiddenRecheckInterval)
                guard await pause(configuration.forbiddenRecheckInterval) else { return }
                continue
            }
            if let rejected, rejected == credentials {
                // Refused before and the same credentials now: no attempt until they change (a daily token rotation).
                setPhase(.credentialsRejected, waiting: rejectedReason, for: configuration.forbiddenRecheckInterval)
                guard await pause(configuration.forbiddenRecheckInterval) else { return }
                continue
            }
            rejected = nil
            setPhase(.connecting)
            let (end, streamed) = await session(credentials: credentials)
            if Task.isCancelled || end == .cancelled { return }
            beginOutage(after: end, streamed: streamed)
            let delay: Duration
            let waitReason: String
            switch end {
            case .emptied:
                attempt = 0
                endOutage()
                continue
            case .forbidden:
                rejected = credentials
                rejectedReason = "http_403"
                FeedMetrics.reconnect(account: account.id, reason: FeedMetrics.Reason.forbidden)
                logger.error("broker refused the credentials (403); the account is not retried until its access token changes")
                setPhase(.credentialsRejected, waiting: "http_403", for: configuration.forbiddenRecheckInterval)
                continue
            case .rateLimited:
                attempt += 1
                delay = max(configuration.rateLimitedMinDelay, configuration.reconnectBackoff.delay(afterFailures: attempt))
                waitReason = "http_429"
                FeedMetrics.reconnect(account: account.id, reason: FeedMetrics.Reason.rateLimited)
                logger.warning("broker refused the connection (429); backing off", metadata: ["delay": "\(delay)", "attempt": "\(attempt)"])
            case .stale, .dropped, .handshakeTimeout, .failed, .refused:
                attempt = streamed ? 1 : attempt + 1
                delay = configuration.reconnectBackoff.delay(afterFailures: attempt)
                let reason: String
                switch end {
                case .stale: reason = FeedMetrics.Reason.stale
                case .dropped: reason = FeedMetrics.Reason.dropped
                case .handshakeTimeout: reason = FeedMetrics.Reason.handshakeTimeout
                default: reason = FeedMetrics.Reason.error
                }
                switch end {
                case let .refused(status?): waitReason = "http_\(status)"
                case .refused(nil): waitReason = "upgrade_refused"
                default: waitReason = reason
                }
                FeedMetrics.reconnect(account: account.id, reason: reason)
                var metadata: Logger.Metadata = ["reason": "\(reason)", "delay": "\(delay)", "attempt": "\(attempt)"]
                if case let .failed(message) = end { metadata["error"] = "\(message)" }
                if case let .refused(status) = end { metadata["error"] = "upgrade refused (HTTP \(status.map(String.init) ?? "unknown"))" }
                logger.warning("broker connection ended; reconnecting", metadata: metadata)
            case let .brokerDisconnect(code):
                switch DhanDisconnectReason(code: code) {
                case .credentials:
                    rejected = credentials
                    rejectedReason = "dhan_\(code)"
                    FeedMetrics.reconnect(account: account.id, reason: FeedMetrics.Reason.forbidden)
                    logger.error(
                        "broker refused the credentials (disconnect \(code)); the account is not retried until its access token changes",
                        metadata: ["code": "\(code)"]
                    )
                    setPhase(.credentialsRejected, waiting: "dhan_\(code)", for: configuration.forbiddenRecheckInterval)
                    continue
                case .tooManyConnections:
                    attempt += 1
                    delay = max(configuration.rateLimitedMinDelay, configuration.reconnectBackoff.delay(afterFailures: attempt))
                    FeedMetrics.reconnect(account: account.id, reason: FeedMetrics.Reason.tooManyConnections)
                    logger.warning("broker has too many connections for the account (805); backing off", metadata: ["delay": "\(delay)", "attempt": "\(attempt)"])
                case .tooManyInstruments:
                    attempt = 1
                    delay = configuration.reconnectBackoff.delay(afterFailures: attempt)
                    FeedMetrics.reconnect(account: account.id, reason: FeedMetrics.Reason.instrumentLimit)
                    shedExcess()
                case .other:
                    attempt += 1
                    delay = configuration.reconnectBackoff.delay(afterFailures: attempt)
                    FeedMetrics.reconnect(account: account.id, reason: FeedMetrics.Reason.error)
                    logger.warning("broker closed the connection; reconnecting", metadata: ["code": "\(code)", "delay": "\(delay)"])
                }
                waitReason = "dhan_\(code)"
            case .cancelled:
                return
            }
            setPhase(.backoff, waiting: waitReason, for: delay)
            guard await pause(delay) else { return }
        }
    }

    /// Sleeps; false when cancelled.
    private func pause(_ duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return true
        } catch {
            return false
        }
    }

    /// One socket, from connect to close. Returns why it ended and whether anything was received.
    private func session(credentials: BrokerCredentials) async -> (SessionEnd, Bool) {
        let url = wire.url(root: account.webSocketURL, credentials: credentials)
        let (requests, continuation) = AsyncStream.makeStream(of: FeedRequestMessage.self)
        state.withLock {
            $0.end = nil
            $0.receivedInSession = false
            $0.subscribedSent = 0
            $0.subscribedBeforeLast = 0
        }
        let wire = self.wire
        var wsLogger = logger
        wsLogger.logLevel = max(logger.logLevel, .notice)
        let maxSize = configuration.maxFrameSize
        let handshake = WebSocketHandshake()
        do {
            _ = try await handshake.run(timeout: configuration.handshakeTimeout) { eventLoopGroup in
                try await WebSocketClient.connect(
                    url: url, configuration: .init(maxFrameSize: maxSize, closeTimeout: .seconds(1)), eventLoopGroup: eventLoopGroup,
                    logger: wsLogger
                ) { inbound, outbound, _ in
                    guard handshake.opened() else { return }
                    let snapshot = self.open(continuation)
                    for message in wire.resubscribe(snapshot) { try await self.send(message, outbound) }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await message in requests { try await self.send(message, outbound) }
                            // Cancelled (the reader failed first, e.g. a reset socket) is not emptied: the reader's end wins.
                            if !Task.isCancelled { self.finishSession(.emptied) }
                        }
                        group.addTask {
                            for try await message in inbound.messages(maxSize: maxSize) {
                                guard self.receive(message) else { break }
                            }
                            self.finishSession(.dropped)
                        }
                        group.addTask { try await self.watchdog() }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }
            finishSession(.dropped)
        } catch {
            if Task.isCancelled {
                finishSession(.cancelled)
            } else if handshake.wasAbandoned {
                finishSession(.handshakeTimeout)
            } else if let wsError = error as? WebSocketClientError, wsError == .webSocketUpgradeFailed {
                // hummingbird-websocket does not expose the refusal's status; ask for it once with a plain upgrade request.
                switch await UpgradeProbe.status(url: url, httpClient: httpClient) {
                case 403, 401: finishSession(.forbidden)
                case 429: finishSession(.rateLimited)
                case let status: finishSession(.refused(status))
                }
            } else {
                finishSession(.failed(Self.redacted("\(error)", credentials)))
            }
        }
        continuation.finish()
        return state.withLock { state in
            state.live = nil
            return (state.end ?? .dropped, state.receivedInSession)
        }
    }

    /// The socket is open: route requests to it and return what to resubscribe.
    private func open(_ continuation: AsyncStream<FeedRequestMessage>.Continuation) -> [UInt32: KiteMode] {
        let snapshot = state.withLock { state in
            state.phase = .streaming
            state.sessions += 1
            state.lastMessage = .now
            state.live = continuation
            if state.desired.isEmpty {
                continuation.finish()
                state.live = nil
            }
            return state.desired
        }
        FeedMetrics.state(account: account.id, connection: connectionID, .streaming)
        logger.info("broker connection open; subscribing", metadata: ["instruments": "\(snapshot.count)"])
        return snapshot
    }

    /// Records why the session ended (the first reason wins).
    private func finishSession(_ end: SessionEnd) {
        state.withLock { if $0.end == nil { $0.end = end } }
    }

    /// Writes one request, counting the instruments it subscribes.
    private func send(_ message: FeedRequestMessage, _ outbound: WebSocketOutboundWriter) async throws {
        if message.subscribes > 0 {
            state.withLock {
                $0.subscribedBeforeLast = $0.subscribedSent
                $0.subscribedSent += message.subscribes
            }
        }
        try await outbound.write(.text(message.text))
    }

    /// Handles one message; false when the broker said it is closing the session.
    private func receive(_ message: WebSocketMessage) -> Bool {
        let now = Date().timeIntervalSince1970
        let ended = state.withLock { state -> FeedGapTracker.Ended? in
            state.lastMessage = .now
            state.lastMessageWall = now
            state.receivedInSession = true
            // The session delivers: the outage that made it (re)connect is over.
            return state.outage.isOpen ? state.outage.end(at: Int64(now * 1000)) : nil
        }
        if let ended { recordGap(ended) }
        switch message {
        case let .binary(buffer):
            switch wire.inspect(binary: buffer) {
            case .heartbeat:
                FeedMetrics.heartbeat(account: account.id)
            case .data:
                FeedMetrics.frame(account: account.id)
                sink.push(
                    TickFrame(bytes: buffer, receivedAtMillis: Int64(now * 1000), broker: account.broker, accountID: account.id, connectionID: connectionID)
                )
            case let .disconnect(code):
                logger.warning("broker is closing the connection", metadata: ["code": "\(code)"])
                finishSession(.brokerDisconnect(code))
                return false
            }
        case let .text(text):
            wire.read(text: text, logger: logger)
        }
        return true
    }

    /// After Dhan's 804 (too many instruments): the broker's limit is at least what the messages before the refused
    /// one subscribed. The connection keeps that many (in token order) and hands the rest to ``onOverflow(_:)``.
    private func shedExcess() {
        let shed = state.withLock { state -> [FeedInstrument] in
            let limit = max(0, state.subscribedBeforeLast)
            state.brokerLimit = limit
            guard state.desired.count > limit else { return [] }
            let excess = state.desired.keys.sorted().dropFirst(limit)
            return excess.map { token in FeedInstrument(token: token, mode: state.desired.removeValue(forKey: token)!) }
        }
        logger.error(
            "broker refused more instruments on this connection (804); moving the excess to other connections",
            metadata: ["limit": "\(capacity)", "moved": "\(shed.count)"]
        )
        if !shed.isEmpty, let handler = overflow.withLock({ $0 }) { handler(shed) }
    }

    /// Returns (ending the session) once nothing has arrived for `staleAfter`.
    private func watchdog() async throws {
        let staleAfter = configuration.staleAfter
        let interval = min(staleAfter / 4, .seconds(1))
        while true {
            try await Task.sleep(for: interval)
            let last = state.withLock { $0.lastMessage } ?? .now
            if ContinuousClock.now - last > staleAfter {
                logger.warning("broker connection silent; reconnecting", metadata: ["silent_for": "\(ContinuousClock.now - last)"])
                finishSession(.stale)
                setPhase(.stalled)
                return
            }
        }
    }

    /// Sets the phase; `waiting`/`delay` record why and for how long it waits (shown by ``status()``), and any other
    /// phase clears them.
    private func setPhase(_ phase: FeedConnectionPhase, waiting reason: String? = nil, for delay: Duration? = nil) {
        let changed = state.withLock { state in
            defer {
                state.phase = phase
                state.waitReason = reason
                state.nextAttempt = delay.map { ContinuousClock.now + $0 }
                state.nextAttemptWall = delay.map { Date().timeIntervalSince1970 + Double($0.wholeMilliseconds) / 1000 }
            }
            return state.phase != phase
        }
        if changed { FeedMetrics.state(account: account.id, connection: connectionID, phase) }
    }

    // MARK: Feed gaps

    /// A session ended without being asked to: the connection stops streaming the instruments it carries. A stall or
    /// a drop of a session that had delivered starts at its last message; anything else (a failed handshake, a
    /// refusal) widens the outage in progress or starts one now.
    private func beginOutage(after end: SessionEnd, streamed: Bool) {
        let reason: FeedGap.Reason
        switch end {
        case .emptied, .cancelled: return
        case .stale: reason = .stall
        case .dropped: reason = streamed ? .drop : .reconnect
        case .failed: reason = streamed ? .drop : .reconnect
        case .handshakeTimeout, .forbidden, .rateLimited, .refused, .brokerDisconnect: reason = .reconnect
        }
        state.withLock { state in
            guard !state.desired.isEmpty else { return }
            let now = Self.nowMillis()
            let since = streamed ? state.lastMessageWall.map { Int64($0 * 1000) } ?? now : now
            state.outage.begin(reason, since: min(since, now), tokens: state.desired.keys)
        }
    }

    /// Ends the outage in progress now, if there is one.
    private func endOutage() {
        if let ended = state.withLock({ $0.outage.end(at: Self.nowMillis()) }) { recordGap(ended) }
    }

    private func recordGap(_ ended: FeedGapTracker.Ended) {
        gaps.record(
            ended.reason, accountID: account.id, connectionID: gapConnectionID, startMillis: ended.startMillis, endMillis: ended.endMillis,
            tokens: ended.tokens
        )
    }

    /// The connection as feed gaps name it: `account#n`.
    var gapConnectionID: String { "\(account.id)#\(connectionID)" }

    private static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
