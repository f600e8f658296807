import BrokerWire
import Logging
import Synchronization

/// One instrument a rebalance moved.
struct FeedMove: Sendable, Encodable {
    struct Connection: Sendable, Encodable, Hashable {
        var accountID: String
        var connectionID: Int

        enum CodingKeys: String, CodingKey {
            case accountID = "account_id"
            case connectionID = "connection_id"
        }
    }

    var instrumentToken: UInt32
    var from: Connection
    var to: Connection

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case from, to
    }
}

/// What a rebalance did (`POST /admin/rebalance`'s body, docs/feed.md "Even spread and rebalance").
struct FeedRebalanceResult: Sendable, Encodable {
    var moves: [FeedMove]
    var moved: Int
    /// The largest difference between two streaming connections' loads, as a share of a connection's capacity (0.01 = 1%).
    var spreadBefore: Double
    var spreadAfter: Double
    /// Instruments per connection, in `/health`'s connection order, before and after.
    var loadsBefore: [Int]
    var loadsAfter: [Int]

    enum CodingKeys: String, CodingKey {
        case moves, moved
        case spreadBefore = "spread_before"
        case spreadAfter = "spread_after"
        case loadsBefore = "loads_before"
        case loadsAfter = "loads_after"
    }
}

/// Even spread and make-before-break moves.
///
/// Placement already puts each new instrument on the least-loaded connection, so only removals unbalance the pool. A
/// rebalance computes each streaming connection's fair share (proportional to its capacity), picks the instruments to
/// move from the connections above it to those below, and moves them make-before-break: each target subscribes first
/// and must be streaming; after `overlap` (at least one tick interval, so the target's first tick has come) the source
/// unsubscribes. A target that does not reach streaming within the handshake time limit gets nothing: its instruments
/// stay where they were. Pinned instruments move only within their account; an instrument moves only to a connection
/// whose broker can carry it.
extension FeedManager {
    /// The spread of the streaming connections' loads, as a share of capacity (0 with fewer than two).
    func spread() -> Double {
        let loads = currentLoads()
        return Self.spread(loads: loads, capacities: connections.map(\.capacity), eligible: eligibleForRebalance())
    }

    static func spread(loads: [Int], capacities: [Int], eligible: [Int]) -> Double {
        let shares = eligible.filter { capacities[$0] > 0 }.map { Double(loads[$0]) / Double(capacities[$0]) }
        guard let high = shares.max(), let low = shares.min() else { return 0 }
        return high - low
    }

    /// Connections that can take part: not refused for credentials; a connection already open or able to open.
    func eligibleForRebalance() -> [Int] {
        connections.indices.filter { connections[$0].phase != .credentialsRejected && connections[$0].capacity > 0 }
    }

    func currentLoads() -> [Int] {
        state.withLock { state in
            var loads = connections.map { _ in 0 }
            for index in state.placement.values { loads[index] += 1 }
            return loads
        }
    }

    /// Moves instruments until every eligible connection carries its fair share (within one instrument).
    /// - Parameter overlap: How long a moved instrument is carried by both connections before the source lets go.
    /// - Returns: nil when another rebalance is running.
    func rebalance(overlap: Duration) async -> FeedRebalanceResult? {
        let started = state.withLock { state -> Bool in
            if state.rebalancing { return false }
            state.rebalancing = true
            return true
        }
        guard started else { return nil }
        defer { state.withLock { $0.rebalancing = false } }

        let capacities = connections.map(\.capacity)
        let eligible = eligibleForRebalance()
        let loadsBefore = currentLoads()
        let spreadBefore = Self.spread(loads: loadsBefore, capacities: capacities, eligible: eligible)
        let planned = plan(eligible: eligible, capacities: capacities)
        guard !planned.isEmpty else {
            return FeedRebalanceResult(moves: [], moved: 0, spreadBefore: spreadBefore, spreadAfter: spreadBefore, loadsBefore: loadsBefore, loadsAfter: loadsBefore)
        }

        // Make: every target subscribes its share; the placement points at the target from now on, so a change or an
        // unsubscribe made meanwhile goes there.
        var byTarget: [Int: [(token: UInt32, mode: KiteMode, source: Int)]] = [:]
        for move in planned { byTarget[move.target, default: []].append((move.token, move.mode, move.source)) }
        var made: [(token: UInt32, source: Int, target: Int)] = []
        for (target, items) in byTarget {
            let moved = state.withLock { state -> [(token: UInt32, mode: KiteMode, source: Int)] in
                // Only what is still where the plan found it (an unsubscribe may have come in between).
                let still = items.filter { state.placement[$0.token] == $0.source }
                for item in still { state.placement[item.token] = target }
                return still
            }
            connections[target].add(moved.map { ($0.token, $0.mode) })
            made += moved.map { ($0.token, $0.source, target) }
        }
        // The targets must stream; one that cannot in time gives its instruments back.
        let deadline = ContinuousClock.now.advanced(by: configuration.handshakeTimeout)
        var failed = Set<Int>()
        for target in Set(made.map(\.target)) {
            while connections[target].phase != .streaming, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if connections[target].phase != .streaming { failed.insert(target) }
        }
        for target in failed {
            let back = made.filter { $0.target == target }
            let returned = state.withLock { state in
                back.filter { state.placement[$0.token] == target }.map { item in
                    state.placement[item.token] = item.source
                    return item.token
                }
            }
            connections[target].remove(returned)
            logger.warning("rebalance target did not stream in time; its instruments stay where they were", metadata: ["connection": "\(target)"])
        }
        made.removeAll { failed.contains($0.target) }
        // Break: after the overlap the sources let go of what the targets now carry.
        try? await Task.sleep(for: overlap)
        var bySource: [Int: [UInt32]] = [:]
        for item in made { bySource[item.source, default: []].append(item.token) }
        for (source, tokens) in bySource { connections[source].remove(tokens) }

        let moves = made.map { item in
            FeedMove(
                instrumentToken: item.token, from: .init(accountID: connections[item.source].account.id, connectionID: connections[item.source].connectionID),
                to: .init(accountID: connections[item.target].account.id, connectionID: connections[item.target].connectionID)
            )
        }
        // Only what still streams where it was moved (an unsubscribe may have come in between).
        let landed = state.withLock { state in made.filter { state.placement[$0.token] == $0.target } }
        await placementsMoved(
            landed.map { FeedPlacement(token: $0.token, accountID: connections[$0.target].account.id, connectionID: connections[$0.target].connectionID) }
        )
        let loadsAfter = currentLoads()
        let spreadAfter = Self.spread(loads: loadsAfter, capacities: capacities, eligible: eligible)
        FeedMetrics.rebalanced(moves.count)
        logger.notice(
            "feed rebalanced",
            metadata: ["moved": "\(moves.count)", "spread_before": "\(spreadBefore)", "spread_after": "\(spreadAfter)"]
        )
        return FeedRebalanceResult(
            moves: moves, moved: moves.count, spreadBefore: spreadBefore, spreadAfter: spreadAfter, loadsBefore: loadsBefore, loadsAfter: loadsAfter
        )
    }

    /// The moves that bring every eligible connection to its fair share.
    private func plan(eligible: [Int], capacities: [Int]) -> [(token: UInt32, mode: KiteMode, source: Int, target: Int)] {
        let (placement, pinned) = state.withLock { ($0.placement, $0.pinned) }
        var byConnection: [Int: [UInt32]] = [:]
        for (token, index) in placement { byConnection[index, default: []].append(token) }
        var load = connections.map { _ in 0 }
        for (index, tokens) in byConnection { load[index] = tokens.count }
        let total = eligible.reduce(0) { $0 + load[$1] }
        let capacity = eligible.reduce(0) { $0 + capacities[$1] }
        guard capacity > 0, eligible.count > 1 else { return [] }
        // Fair shares proportional to capacity, the remainder to the first connections, so they sum to the total.
        var target: [Int: Int] = [:]
        var assigned = 0
        for index in eligible {
            let share = total * capacities[index] / capacity
            target[index] = share
            assigned += share
        }
        for index in eligible.prefix(total - assigned) { target[index]! += 1 }

        var moves: [(token: UInt32, mode: KiteMode, source: Int, target: Int)] = []
        var candidates: [Int: [UInt32]] = [:]
        for index in eligible where load[index] > target[index]! {
            candidates[index] = (byConnection[index] ?? []).sorted()
        }
        for destination in eligible where load[destination] < target[destination]! {
            for source in eligible where load[source] > target[source]! {
                while load[destination] < target[destination]!, load[source] > target[source]!,
                      let pick = candidates[source]?.firstIndex(where: { token in
                          connections[destination].wire.refusal(of: token) == nil
                              && (pinned[token] == nil || pinned[token] == connections[destination].account.id)
                      }) {
                    let token = candidates[source]!.remove(at: pick)
                    let mode = connections[source].modes(of: [token])[token] ?? .quote
                    moves.append((token, mode, source, destination))
                    load[source] -= 1
                    load[destination] += 1
                }
            }
        }
        return moves
    }
}
