import NIOCore
import Synchronization

/// Every open Kite and Dhan connection, with per-key counting for the connection limits.
///
/// A slot is taken when the upgrade is accepted and given back when the channel closes, whatever ends it
/// (client close, drop fault, failed handshake), so a limit can never leak.
final class ConnectionRegistry: Sendable {
    private struct State {
        var nextID = 1
        var connections: [Int: TickerConnection] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// Registers a connection unless `key` already has `limit` open connections of that kind.
    /// - Returns: The new connection, or nil when the limit is reached.
    func open(kind: FeedKind, key: String, limit: Int, channel: any Channel) -> TickerConnection? {
        let connection: TickerConnection? = state.withLock { state in
            let open = state.connections.values.count { $0.kind == kind && $0.key == key }
            guard open < limit else { return nil }
            let connection = TickerConnection(id: state.nextID, kind: kind, key: key, channel: channel)
            state.nextID += 1
            state.connections[connection.id] = connection
            return connection
        }
        if let connection {
            channel.closeFuture.whenComplete { [weak self] _ in self?.close(id: connection.id) }
        }
        return connection
    }

    /// Forgets a connection (idempotent).
    func close(id: Int) {
        _ = state.withLock { $0.connections.removeValue(forKey: id) }
    }

    /// All open connections, oldest first.
    func all(kind: FeedKind? = nil) -> [TickerConnection] {
        state.withLock { state in
            state.connections.values.filter { kind == nil || $0.kind == kind }.sorted { $0.id < $1.id }
        }
    }

    /// One connection by id.
    func connection(id: Int) -> TickerConnection? {
        state.withLock { $0.connections[id] }
    }

    /// Open connections of a kind.
    func count(kind: FeedKind? = nil) -> Int {
        state.withLock { state in state.connections.values.count { kind == nil || $0.kind == kind } }
    }
}
