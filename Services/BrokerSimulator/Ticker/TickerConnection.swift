import BrokerWire
import Foundation
import NIOCore
import Synchronization

/// Which protocol a connection speaks.
enum FeedKind: String, Sendable, Codable {
    case kite
    case dhan
}

/// One instrument a connection streams, with what the encoder needs precomputed.
struct StreamEntry: Sendable, Equatable {
    var token: UInt32
    var mode: KiteMode
    var isIndex: Bool
}

/// The state of one accepted WebSocket connection (Kite or Dhan): its subscriptions, its faults and its counters.
///
/// The reader task (client requests), the writer task (tick frames) and the admin API all touch it, so the mutable
/// part sits behind one `Mutex`; the writer re-reads the subscription list only when ``State/version`` changed.
final class TickerConnection: Sendable {
    let id: Int
    let kind: FeedKind
    /// The Kite API key or the Dhan client id (never the access token).
    let key: String
    let connectedAt: Date
    private let channel: any Channel

    private struct State {
        var modes: [UInt32: KiteMode] = [:]
        var version: UInt64 = 0
        var stalledUntil: ContinuousClock.Instant?
        var stalledIndefinitely = false
        var dropped = false
        var framesSent: UInt64 = 0
        var ticksSent: UInt64 = 0
        var heartbeatsSent: UInt64 = 0
        var intervalsSkipped: UInt64 = 0
    }

    private let state = Mutex(State())

    init(id: Int, kind: FeedKind, key: String, channel: any Channel) {
        self.id = id
        self.kind = kind
        self.key = key
        self.channel = channel
        self.connectedAt = Date()
    }

    /// The result of a subscribe request.
    enum SubscribeOutcome: Equatable {
        /// Tokens that were not subscribed before (now subscribed in the request's mode).
        case subscribed(added: [UInt32])
        /// Subscribing would exceed the per-connection limit; nothing changed.
        case limitExceeded(current: Int, requestedNew: Int)
    }

    /// Subscribes tokens. Already subscribed tokens keep their mode (as on Kite, where `subscribe` does not reset a
    /// mode set earlier) unless `mode` is given explicitly.
    /// - Parameters:
    ///   - tokens: Known instrument tokens.
    ///   - mode: Mode for newly added tokens.
    ///   - overrideExisting: Also set `mode` on tokens that were already subscribed (Dhan semantics).
    ///   - limit: The per-connection instrument cap.
    func subscribe(_ tokens: [UInt32], mode: KiteMode, overrideExisting: Bool = false, limit: Int) -> SubscribeOutcome {
        state.withLock { state in
            var newTokens: [UInt32] = []
            var seen = Set<UInt32>()
            for token in tokens where state.modes[token] == nil && seen.insert(token).inserted {
                newTokens.append(token)
            }
            guard state.modes.count + newTokens.count <= limit else {
                return .limitExceeded(current: state.modes.count, requestedNew: newTokens.count)
            }
            for token in newTokens { state.modes[token] = mode }
            if overrideExisting {
                for token in tokens { state.modes[token] = mode }
            }
            state.version &+= 1
            return .subscribed(added: newTokens)
        }
    }

    /// Unsubscribes tokens; unknown ones are ignored.
    /// - Returns: How many were removed.
    @discardableResult
    func unsubscribe(_ tokens: [UInt32]) -> Int {
        state.withLock { state in
            var removed = 0
            for token in tokens where state.modes.removeValue(forKey: token) != nil { removed += 1 }
            if removed > 0 { state.version &+= 1 }
            return removed
        }
    }

    /// Sets the mode of subscribed tokens; tokens not subscribed are ignored (Kite streams only subscribed tokens).
    /// - Returns: The tokens whose mode applies now.
    func setMode(_ mode: KiteMode, tokens: [UInt32]) -> [UInt32] {
        state.withLock { state in
            var applied: [UInt32] = []
            for token in tokens where state.modes[token] != nil {
                state.modes[token] = mode
                applied.append(token)
            }
            if !applied.isEmpty { state.version &+= 1 }
            return applied
        }
    }

    /// The subscription list if it changed since `knownVersion`, sorted by token so frames are deterministic.
    func streamPlan(ifChangedSince knownVersion: UInt64?) -> (version: UInt64, entries: [StreamEntry])? {
        state.withLock { state in
            if let knownVersion, knownVersion == state.version { return nil }
            let entries = state.modes.map { token, mode in
                StreamEntry(token: token, mode: mode, isIndex: KiteSegment(token: token) == .indices)
            }.sorted { $0.token < $1.token }
            return (state.version, entries)
        }
    }

    /// Entries for specific tokens in their current modes (the immediate snapshot after a subscribe or mode change).
    func entries(for tokens: [UInt32]) -> [StreamEntry] {
        state.withLock { state in
            tokens.compactMap { token in
                state.modes[token].map { StreamEntry(token: token, mode: $0, isIndex: KiteSegment(token: token) == .indices) }
            }
        }
    }

    /// Subscribed token count.
    var subscriptionCount: Int { state.withLock { $0.modes.count } }

    // MARK: Faults

    /// Stops all output (ticks, heartbeats, replies) for `duration`, or until ``resume()`` when nil; the socket stays open.
    func stall(for duration: Duration?) {
        state.withLock { state in
            if let duration {
                state.stalledUntil = ContinuousClock.now + duration
                state.stalledIndefinitely = false
            } else {
                state.stalledUntil = nil
                state.stalledIndefinitely = true
            }
        }
    }

    /// Ends a stall.
    func resume() {
        state.withLock { state in
            state.stalledUntil = nil
            state.stalledIndefinitely = false
        }
    }

    /// Whether output is stalled now.
    var isStalled: Bool {
        state.withLock { state in
            if state.stalledIndefinitely { return true }
            guard let until = state.stalledUntil else { return false }
            if ContinuousClock.now < until { return true }
            state.stalledUntil = nil
            return false
        }
    }

    /// Closes the TCP connection at once, without a WebSocket close frame (the client sees 1006).
    func drop() {
        state.withLock { $0.dropped = true }
        // SO_LINGER 0 turns the close into a reset so no buffered frame trickles out after the "drop".
        let channel = self.channel
        channel.eventLoop.execute {
            if let socket = channel as? any SocketOptionProvider {
                _ = socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            channel.close(promise: nil)
        }
    }

    /// Whether ``drop()`` was called.
    var wasDropped: Bool { state.withLock { $0.dropped } }

    // MARK: Counters

    func recordFrame(ticks: Int) {
        state.withLock { state in
            state.framesSent &+= 1
            state.ticksSent &+= UInt64(ticks)
        }
    }

    func recordHeartbeat() { state.withLock { $0.heartbeatsSent &+= 1 } }

    func recordSkipped(_ intervals: Int) { state.withLock { $0.intervalsSkipped &+= UInt64(intervals) } }

    /// What `GET /admin/connections` shows for this connection.
    func summary() -> ConnectionSummary {
        state.withLock { state in
            var byMode: [String: Int] = [:]
            for mode in KiteMode.allCases { byMode[mode.rawValue] = 0 }
            for mode in state.modes.values { byMode[mode.rawValue, default: 0] += 1 }
            let stalled = state.stalledIndefinitely || (state.stalledUntil.map { ContinuousClock.now < $0 } ?? false)
            return ConnectionSummary(
                id: id,
                kind: kind,
                apiKey: key,
                connectedAt: connectedAt,
                subscribedCount: state.modes.count,
                tokensByMode: byMode,
                stalled: stalled,
                framesSent: state.framesSent,
                ticksSent: state.ticksSent,
                heartbeatsSent: state.heartbeatsSent,
                intervalsSkipped: state.intervalsSkipped
            )
        }
    }

    /// The full subscription list (for `GET /admin/connections/{id}`).
    func subscriptions() -> [String: [UInt32]] {
        state.withLock { state in
            var result: [String: [UInt32]] = [:]
            for mode in KiteMode.allCases { result[mode.rawValue] = [] }
            for (token, mode) in state.modes { result[mode.rawValue, default: []].append(token) }
            return result.mapValues { $0.sorted() }
        }
    }
}

/// One connection as the admin API reports it.
struct ConnectionSummary: Codable, Sendable {
    var id: Int
    var kind: FeedKind
    var apiKey: String
    var connectedAt: Date
    var subscribedCount: Int
    var tokensByMode: [String: Int]
    var stalled: Bool
    var framesSent: UInt64
    var ticksSent: UInt64
    var heartbeatsSent: UInt64
    var intervalsSkipped: UInt64

    enum CodingKeys: String, CodingKey {
        case id, kind, stalled
        case apiKey = "api_key"
        case connectedAt = "connected_at"
        case subscribedCount = "subscribed_count"
        case tokensByMode = "tokens_by_mode"
        case framesSent = "frames_sent"
        case ticksSent = "ticks_sent"
        case heartbeatsSent = "heartbeats_sent"
        case intervalsSkipped = "intervals_skipped"
    }
}
