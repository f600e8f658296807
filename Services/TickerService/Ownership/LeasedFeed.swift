import BrokerWire
import Synchronization

/// What `/health` says about the lease on the broker sessions.
struct FeedLeaseStatus: Sendable, Encodable {
    enum Role: String, Sendable, Encodable {
        /// This instance holds the lease and runs the broker sessions.
        case owner
        /// Another instance holds it (or none does yet): this one serves reads and forwards changes to the owner.
        case standby
    }

    var role: Role
    /// This instance's id.
    var instance: String
    /// The holder's id, nil when no instance holds an unexpired lease.
    var owner: String?

    enum CodingKeys: String, CodingKey {
        case role, instance, owner
    }
}

/// The broker feed as the subscription layer, `/health`, `/history` and the rebalance endpoint see it when the
/// sessions are under the ``FeedLease``: the ``FeedManager`` of the current lease term while this instance owns the
/// lease, nothing otherwise. Without a term a subscribe is refused (the standby forwards changing requests to the
/// owner before they get here, so this is only hit in the seconds no instance owns the lease), and mode changes and
/// unsubscribes are left to the next owner, which restores the stored subscriptions as they are then.
final class LeasedFeed: FeedControlling {
    private struct State {
        var manager: FeedManager?
        var owner: FeedLease.Holder?
    }

    let instanceID: String
    /// Every configured connection's capacity, summed (what `/health` shows while this instance is standby).
    let configuredCapacity: Int
    private let state = Mutex(State())

    init(instanceID: String, configuredCapacity: Int) {
        self.instanceID = instanceID
        self.configuredCapacity = configuredCapacity
    }

    /// The manager of the current lease term, nil while standby.
    var manager: FeedManager? { state.withLock { $0.manager } }

    /// Who holds the lease, as this instance last knew it.
    var owner: FeedLease.Holder? { state.withLock { $0.owner } }

    /// Starts a term (this instance took the lease; `holder` is this instance) or ends it (nil, nil).
    func setManager(_ manager: FeedManager?, holder: FeedLease.Holder?) {
        state.withLock {
            $0.manager = manager
            $0.owner = holder
        }
    }

    /// Who holds the lease, as last read (standby).
    func setOwner(_ owner: FeedLease.Holder?) {
        state.withLock { $0.owner = owner }
    }

    /// Where a token is placed in this instance's term, if anywhere.
    func placement(of token: UInt32) -> FeedPlacement? { manager?.placement(of: token) }

    func subscribe(_ subscriptions: [FeedSubscription]) async throws(FeedError) -> [FeedPlacement] {
        let (manager, owner) = state.withLock { ($0.manager, $0.owner) }
        guard let manager else {
            throw FeedError(
                code: .notRunning,
                message: owner.map { "this instance does not hold the broker sessions (instance \($0.owner) does); retry there or in a moment" }
                    ?? "no instance holds the broker sessions right now (the lease is being taken over); retry in a few seconds"
            )
        }
        return try await manager.subscribe(subscriptions)
    }

    func setMode(_ mode: KiteMode, tokens: [UInt32]) async {
        await manager?.setMode(mode, tokens: tokens)
    }

    func unsubscribe(_ tokens: [UInt32]) async {
        await manager?.unsubscribe(tokens)
    }

    func status() async -> FeedStatus {
        let (manager, owner) = state.withLock { ($0.manager, $0.owner) }
        if let manager {
            var status = await manager.status()
            status.lease = FeedLeaseStatus(role: .owner, instance: instanceID, owner: instanceID)
            return status
        }
        return FeedStatus(
            running: false, connections: [], subscribedInstruments: 0, capacity: configuredCapacity,
            lease: FeedLeaseStatus(role: .standby, instance: instanceID, owner: owner?.owner)
        )
    }
}
