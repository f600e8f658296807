import AsyncHTTPClient
import BrokerWire
import Logging
import ServiceLifecycle
import Synchronization

/// The broker sessions of every account: places instruments on connections and runs each connection as a long-lived
/// loop (see ``FeedConnection``). It is the ``FeedControlling`` the subscription layer talks to.
///
/// Placement: an instrument goes to the least-loaded connection with room, across all usable accounts (ties: the
/// account with fewer instruments, then configuration order), unless the caller names a connection that still has room.
/// A call either places every new instrument or none (``FeedError/Code/capacityExhausted`` with used/total figures).
/// Accounts whose credentials were refused (403) take no new instruments.
final class FeedManager: Service, FeedControlling {
    let configuration: FeedConfiguration
    /// Every connection slot, account by account, in configuration order.
    let connections: [FeedConnection]
    private let logger: Logger
    private let state = Mutex(State())
    /// Epoch ms since which restored subscriptions were not streamed (the start of their `reconnect` gap).
    private let restartGapSince: Int64?

    private struct State {
        /// token → index into `connections`.
        var placement: [UInt32: Int] = [:]
        var running = false
    }

    /// - Parameters:
    ///   - configuration: Accounts and tuning.
    ///   - sink: Where received frames go (``TickPublisher/sink``).
    ///   - gaps: Where the connections record their feed gaps.
    ///   - restartGapSince: Epoch ms since which subscriptions restored at startup were not streamed
    ///     (``RestartGapStart``); nil: from the moment they are placed.
    ///   - httpClient: Used only to read the status of a refused upgrade (403/429).
    ///   - logger: Logger; account ids go in metadata, never keys or tokens.
    init(
        configuration: FeedConfiguration, sink: TickSink, gaps: FeedGapRecorder = FeedGapRecorder(), restartGapSince: Int64? = nil,
        httpClient: HTTPClient = .shared, logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.restartGapSince = restartGapSince
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
        // Last mode wins for a token listed twice; order of first appearance is kept.
        var order: [UInt32] = []
        var wanted: [UInt32: FeedSubscription] = [:]
        for subscription in subscriptions {
            if wanted.updateValue(subscription, forKey: subscription.token) == nil { order.append(subscription.token) }
        }
        let connections = self.connections
        let forbidden = Set(connections.filter { $0.phase == .credentialsRejected }.map(\.account.id))
        return try state.withLock { state throws(FeedError) -> [FeedPlacement] in
            var load = connections.map { _ in 0 }
            var accountLoad: [String: Int] = [:]
            for index in state.placement.values {
                load[index] += 1
                accountLoad[connections[index].account.id, default: 0] += 1
            }
            let usable = connections.indices.filter { !forbidden.contains(connections[$0].account.id) }
            var plan: [Int: [(token: UInt32, mode: KiteMode)]] = [:]
            var added: [UInt32: Int] = [:]
            var placements: [FeedPlacement] = []
            let newCount = order.count { state.placement[$0] == nil }
            if newCount > 0, usable.isEmpty {
                throw FeedError(
                    code: .noUsableAccount,
                    message: "no broker account can stream: \(configuration.accounts.isEmpty ? "none is configured" : "every account's credentials were refused (403)")"
                )
            }
            for token in order {
                let subscription = wanted[token]!
                let index: Int
                if let existing = state.placement[token] {
                    index = existing
                } else {
                    let hasRoom = { (i: Int) in load[i] < connections[i].capacity }
                    let preferred = usable.filter { i in
                        hasRoom(i) && connections[i].account.id == subscription.preferredAccountID
                            && (subscription.preferredConnectionID == nil || connections[i].connectionID == subscription.preferredConnectionID)
                    }
                    let candidates = preferred.isEmpty ? usable.filter(hasRoom) : preferred
                    guard let best = candidates.min(by: { a, b in
                        let accountA = accountLoad[connections[a].account.id, default: 0]
                        let accountB = accountLoad[connections[b].account.id, default: 0]
                        return (load[a], accountA, a) < (load[b], accountB, b)
                    }) else {
                        let total = usable.reduce(0) { $0 + connections[$1].capacity }
                        let used = usable.reduce(0) { $0 + load[$1] } - added.count
                        throw FeedError(
                            code: .capacityExhausted,
                            message: "broker capacity exhausted: \(used) of \(total) instrument slots are in use across "
                                + "\(Set(usable.map { connections[$0].account.id }).count) account(s); this request needs \(newCount) more; nothing was subscribed"
                        )
                    }
                    index = best
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
