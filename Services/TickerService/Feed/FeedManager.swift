import AsyncHTTPClient
import BrokerWire
import Logging
import ServiceLifecycle
import Synchronization

/// The broker sessions of every account: places instruments on connections and runs each connection as a long-lived
/// loop (see ``FeedConnection``). It is the ``FeedControlling`` the subscription layer talks to.
///
/// Placement: an instrument goes to the least-loaded connection with room (by share of its capacity, so Kite's
/// 3,000-instrument and Dhan's 5,000-instrument connections fill evenly), across all usable accounts of every broker
/// (ties: the account with fewer instruments, then configuration order), unless the caller names a connection that
/// still has room. `FEED_PLACEMENT=ordered` fills the first account in file order before the next. A pinned instrument
/// (``FeedSubscription/requiredAccountID``) goes to that account or nowhere. A broker that cannot address an
/// instrument (Dhan without a mapping) never gets it.
/// A call either places every new instrument or none (``FeedError/Code/capacityExhausted`` with used/total figures).
/// Accounts whose credentials were refused (403) take no new instruments.
final class FeedManager: Service, FeedControlling {
    let configuration: FeedConfiguration
    /// Every connection slot, account by account, in configuration order.
    let connections: [FeedConnection]
    let logger: Logger
    let state = Mutex(State())
    /// Epoch ms since which restored subscriptions were not streamed (the start of their `reconnect` gap).
    private let restartGapSince: Int64?
    /// Told where instruments moved after they were placed (a rebalance, instruments a broker refused), so the stored
    /// placement follows (``SubscriptionManager/recordMoved(_:)``).
    let placementsMoved: @Sendable ([FeedPlacement]) async -> Void

    struct State {
        /// token → index into `connections`.
        var placement: [UInt32: Int] = [:]
        /// Tokens pinned to an account (``FeedSubscription/requiredAccountID``): a rebalance moves them only within it.
        var pinned: [UInt32: String] = [:]
        var running = false
        /// Whether a rebalance is moving instruments now.
        var rebalancing = false
    }

    /// - Parameters:
    ///   - configuration: Accounts and tuning.
    ///   - sink: Where received frames go (``TickPublisher/sink``).
    ///   - gaps: Where the connections record their feed gaps.
    ///   - restartGapSince: Epoch ms since which subscriptions restored at startup were not streamed
    ///     (``RestartGapStart``); nil: from the moment they are placed.
    ///   - httpClient: Used only to read the status of a refused upgrade (403/429).
    ///   - placementsMoved: Told where instruments moved after they were placed.
    ///   - logger: Logger; account ids go in metadata, never keys or tokens.
    init(
        configuration: FeedConfiguration, sink: TickSink, gaps: FeedGapRecorder = FeedGapRecorder(), restartGapSince: Int64? = nil,
        httpClient: HTTPClient = .shared, placementsMoved: @escaping @Sendable ([FeedPlacement]) async -> Void = { _ in }, logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.restartGapSince = restartGapSince
        self.placementsMoved = placementsMoved
        var connections: [FeedConnection] = []
        for account in configuration.accounts {
            for index in 1...max(1, account.maxConnections) {
                connections.append(
                    FeedConnection(
                        account: account, connectionID: index, configuration: configuration, sink: sink, gaps: gaps, httpClient: httpClient, logger: logger
                    )
                )
            }
        }
        self.connections = connections
        for (index, connection) in connections.enumerated() {
            connection.onOverflow { [weak self] items in self?.replace(items, from: index) }
        }
    }

    func run() async throws {
        state.withLock { $0.running = true }
        defer { state.withLock { $0.running = false } }
        logger.info(
            "feed starting",
            metadata: ["accounts": "\(configuration.accounts.map(\.id).joined(separator: ","))", "connections": "\(connections.count)"]
        )
        await cancelWhenGracefulShutdown { [connections] in
            await withDiscardingTaskGroup { group in
                for connection in connections {
                    group.addTask { await connection.run() }
                }
            }
        }
    }

    // MARK: FeedControlling

    func subscribe(_ subscriptions: [FeedSubscription]) async throws(FeedError) -> [FeedPlacement] {
        try place(subscriptions)
    }

    /// Places every new instrument or none (see the type's documentation), then hands each connection its share.
    /// - Parameter excluding: A connection that must take none of them (it just refused them: Dhan's 804).
    private func place(_ subscriptions: [FeedSubscription], excluding: Int? = nil) throws(FeedError) -> [FeedPlacement] {
        // Last mode wins for a token listed twice; order of first appearance is kept.
        var order: [UInt32] = []
        var wanted: [UInt32: FeedSubscription] = [:]
        for subscription in subscriptions {
            if wanted.updateValue(subscription, forKey: subscription.token) == nil { order.append(subscription.token) }
        }
        let connections = self.connections
        let capacities = connections.map(\.capacity)
        let forbidden = Set(connections.filter { $0.phase == .credentialsRejected }.map(\.account.id))
        let accountIDs = Set(configuration.accounts.map(\.id))
        let policy = configuration.placement
        let accountOrder = Dictionary(configuration.accounts.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
        return try state.withLock { state throws(FeedError) -> [FeedPlacement] in
            var load = connections.map { _ in 0 }
            var accountLoad: [String: Int] = [:]
            for index in state.placement.values {
                load[index] += 1
                accountLoad[connections[index].account.id, default: 0] += 1
            }
            let usable = connections.indices.filter { !forbidden.contains(connections[$0].account.id) && $0 != excluding }
            var plan: [Int: [(token: UInt32, mode: KiteMode)]] = [:]
            var added: [UInt32: Int] = [:]
            var placements: [FeedPlacement] = []
            let newCount = order.count { state.placement[$0] == nil }
            if newCount > 0, usable.isEmpty {
                throw FeedError(
                    code: .noUsableAccount,
                    message: "no broker account can stream: \(configuration.accounts.isEmpty ? "none is configured" : "every account's credentials were refused")"
                )
            }
            for token in order {
                let subscription = wanted[token]!
                let index: Int
                if let existing = state.placement[token] {
                    index = existing
                } else {
                    let hasRoom = { (i: Int) in load[i] < capacities[i] }
                    let carries = { (i: Int) in connections[i].wire.refusal(of: token) == nil }
                    var candidates: [Int]
                    if let pinned = subscription.requiredAccountID {
                        guard accountIDs.contains(pinned) else {
                            throw FeedError(code: .unknownAccount, message: "account_id \(pinned) is not a configured broker account; nothing was subscribed")
                        }
                        let ofAccount = connections.indices.filter { connections[$0].account.id == pinned && $0 != excluding }
                        if let first = ofAccount.first, let reason = connections[first].wire.refusal(of: token) {
                            throw FeedError(code: .accountUnavailable, message: "account \(pinned) cannot carry instrument \(token): \(reason); nothing was subscribed")
                        }
                        if forbidden.contains(pinned) {
                            throw FeedError(code: .accountUnavailable, message: "account \(pinned)'s credentials were refused; nothing was subscribed")
                        }
                        candidates = ofAccount.filter(hasRoom)
                        if candidates.isEmpty {
                            let total = ofAccount.reduce(0) { $0 + capacities[$1] }
                            throw FeedError(
                                code: .accountUnavailable,
                                message: "account \(pinned) is full: \(ofAccount.reduce(0) { $0 + load[$1] }) of \(total) instrument slots are in use; nothing was subscribed"
                            )
                        }
                    } else {
                        let able = usable.filter(carries)
                        if able.isEmpty {
                            let reason = usable.first.flatMap { connections[$0].wire.refusal(of: token) } ?? "no account can stream it"
                            throw FeedError(code: .unplaceable, message: "no configured broker can stream instrument \(token): \(reason); nothing was subscribed")
                        }
                        let preferred = able.filter { i in
                            hasRoom(i) && connections[i].account.id == subscription.preferredAccountID
                                && (subscription.preferredConnectionID == nil || connections[i].connectionID == subscription.preferredConnectionID)
                        }
                        candidates = preferred.isEmpty ? able.filter(hasRoom) : preferred
                        if policy == .ordered, preferred.isEmpty,
                           let firstAccount = candidates.map({ accountOrder[connections[$0].account.id] ?? 0 }).min() {
                            candidates = candidates.filter { accountOrder[connections[$0].account.id] == firstAccount }
                        }
                    }
                    // Least loaded by share of capacity (connections of different brokers differ in size), then the
                    // account with fewer instruments, then configuration order.
                    guard let best = candidates.min(by: { a, b in
                        let shareA = load[a] * capacities[b], shareB = load[b] * capacities[a]
                        if shareA != shareB { return shareA < shareB }
                        let accountA = accountLoad[connections[a].account.id, default: 0]
                        let accountB = accountLoad[connections[b].account.id, default: 0]
                        return (accountA, a) < (accountB, b)
                    }) else {
                        let total = usable.reduce(0) { $0 + capacities[$1] }
                        let used = usable.reduce(0) { $0 + load[$1] } - added.count
                        throw FeedError(
                            code: .capacityExhausted,
                            message: "broker capacity exhausted: \(used) of \(total) instrument slots are in use across "
                                + "\(Set(usable.map { connections[$0].account.id }).count) account(s); this request needs \(newCount) more; nothing was subscribed"
                        )
                    }
                    index = best
                    if let pinned = subscription.requiredAccountID { state.pinned[token] = pinned }
                    load[index] += 1
                    accountLoad[connections[index].account.id, default: 0] += 1
                    added[token] = index
                }
                plan[index, default: []].append((token, subscription.mode))
                placements.append(FeedPlacement(token: token, accountID: connections[index].account.id, connectionID: connections[index].connectionID))
            }
            state.placement.merge(added) { $1 }
            let since = subscriptions.contains(where: \.restored) ? restartGapSince : nil
            for (index, items) in plan { connections[index].add(items, outageSince: since) }
            return placements
        }
    }

    /// A connection shed instruments the broker refused (Dhan's 804): place them on the others. Those that fit nowhere
    /// stay unstreamed and are logged; their subscriptions remain, so a restart or a freed slot does not forget them.
    private func replace(_ items: [FeedInstrument], from index: Int) {
        state.withLock { state in
            for item in items where state.placement[item.token] == index { state.placement.removeValue(forKey: item.token) }
        }
        let subscriptions = items.map { FeedSubscription(token: $0.token, mode: $0.mode) }
        do {
            let placed = try place(subscriptions, excluding: index)
            logger.notice("re-placed instruments the broker refused on a connection", metadata: ["instruments": "\(placed.count)"])
            Task { [placementsMoved] in await placementsMoved(placed) }
        } catch {
            logger.error(
                "instruments the broker refused could not be placed elsewhere; they are not streamed",
                metadata: ["instruments": "\(items.count)", "error": "\(error.message)"]
            )
        }
    }

    func setMode(_ mode: KiteMode, tokens: [UInt32]) async {
        state.withLock { state in
            var plan: [Int: [(token: UInt32, mode: KiteMode)]] = [:]
            for token in tokens {
                guard let index = state.placement[token] else { continue }
                plan[index, default: []].append((token, mode))
            }
            for (index, items) in plan { connections[index].add(items) }
        }
    }

    func unsubscribe(_ tokens: [UInt32]) async {
        state.withLock { state in
            var plan: [Int: [UInt32]] = [:]
            for token in tokens {
                state.pinned.removeValue(forKey: token)
                guard let index = state.placement.removeValue(forKey: token) else { continue }
                plan[index, default: []].append(token)
            }
            for (index, items) in plan { connections[index].remove(items) }
        }
    }

    func status() async -> FeedStatus {
        let (running, subscribed) = state.withLock { ($0.running, $0.placement.count) }
        return FeedStatus(
            running: running,
            connections: connections.map { $0.status() },
            subscribedInstruments: subscribed,
            capacity: connections.reduce(0) { $0 + $1.capacity }
        )
    }

    /// Where a token is placed, if anywhere.
    func placement(of token: UInt32) -> FeedPlacement? {
        state.withLock { state in
            state.placement[token].map { FeedPlacement(token: token, accountID: connections[$0].account.id, connectionID: connections[$0].connectionID) }
        }
    }
}

extension FeedStatus {
    /// Accounts with a connection refused for bad credentials (`/health` should report these as degraded).
    var forbiddenAccounts: [String] {
        Array(Set(connections.filter { $0.state == FeedConnectionPhase.credentialsRejected.rawValue }.map(\.accountID))).sorted()
    }
}
