import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A bounded pool of PostgreSQL connections over libpq.
///
/// - At most ``PostgresConfiguration/poolSize`` connections are open; callers beyond that wait in FIFO order for up to
///   ``PostgresConfiguration/checkoutTimeout`` and then get ``PostgresError/Code/poolTimeout``.
/// - Connections are opened lazily. A connection found broken (the server restarted, the network dropped) is
///   discarded and replaced, so the next statement after the server is back succeeds. A statement that was in
///   flight when the connection broke throws ``PostgresError/Code/connectionLost`` and is never re-run.
/// - Blocking libpq calls run on a private `NIOThreadPool` with one thread per pooled connection, never on
///   Swift's cooperative pool.
public final class PostgresClient: Sendable {
    private let configuration: PostgresConfiguration
    private let logger: Logger
    private let threadPool: NIOThreadPool
    private let state: Mutex<PoolState>

    private struct PoolState {
        var idle: [LibPQConnection] = []
        /// Connections open or being opened (idle + leased + connecting).
        var opened = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Grant, any Error>)] = []
        var nextWaiterID = 0
        var nextConnectionID = 0
        var closed = false
    }

    /// What a waiter is handed: an idle connection, or permission to open one.
    private enum Grant: Sendable {
        case connection(LibPQConnection)
        case slot
    }

    /// Creates a client; no connection is opened until first use (or ``connect()``).
    /// - Parameters:
    ///   - configuration: Where to connect and how many connections to keep.
    ///   - logger: Logger for connection lifecycle events (never receives passwords).
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: PostgresLogKey.target] = "\(configuration.redactedDescription)"
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, configuration.poolSize))
        self.threadPool.start()
        self.state = Mutex(PoolState())
    }

    deinit {
        let wasClosed = state.withLock { $0.closed }
        if !wasClosed { threadPool.shutdownGracefully { _ in } }
    }

    /// The target as `host=… port=… dbname=… user=…`, without the password.
    public var redactedTarget: String { configuration.redactedDescription }

    /// Validates the configuration and opens one connection: a startup check that the database is reachable.
    /// - Throws: ``PostgresError/Code/invalidConfiguration`` or ``PostgresError/Code/connectionFailed`` naming the target.
    public func connect() async throws {
        try await withConnection { _ in }
    }

    /// Runs `SELECT 1` on a pooled connection.
    /// - Throws: ``PostgresError`` when the database cannot be reached.
    public func ping() async throws {
        _ = try await query("SELECT 1")
    }

    /// Runs a query on a pooled connection and returns all its rows.
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, … placeholders.
    ///   - binds: The placeholder values in order; `nil` is SQL `NULL`.
    /// - Returns: The rows.
    /// - Throws: ``PostgresError`` or `CancellationError`.
    public func query(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> [PostgresRow] {
        try await withConnection { try await $0.query(sql, binds) }
    }

    /// Runs a statement on a pooled connection and returns the number of rows it affected.
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, … placeholders.
    ///   - binds: The placeholder values in order; `nil` is SQL `NULL`.
    /// - Returns: The affected row count.
    /// - Throws: ``PostgresError`` or `CancellationError`.
    @discardableResult
    public func execute(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await withConnection { try await $0.execute(sql, binds) }
    }

    /// Bulk-writes rows with `COPY … FROM STDIN` on a pooled connection (see ``PostgresConnection/copyIn(table:columns:rows:)``).
    /// - Parameters:
    ///   - table: The target table, optionally `schema.table`.
    ///   - columns: The target columns.
    ///   - rows: The rows, one value per column.
    /// - Returns: The number of rows written.
    /// - Throws: ``PostgresError``.
    public func copyIn(table: String, columns: [String], rows: some Sequence<[(any PostgresEncodable)?]>) async throws -> Int {
        try await withConnection { try await $0.copyIn(table: table, columns: columns, rows: rows) }
    }

    /// Checks out a connection for several statements (not a transaction: each statement commits on its own).
    /// - Parameters:
    ///   - body: Work to do with the connection; do not keep the connection after it returns.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or a ``PostgresError`` when no connection can be had.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let box = try await checkout()
        let connection = PostgresConnection(box: box, threadPool: threadPool, lease: box.beginLease())
        do {
            let value = try await body(connection)
            release(box)
            return value
        } catch {
            release(box)
            throw error
        }
    }

    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT`; on any thrown error `ROLLBACK`, then rethrow.
    ///
    /// If a statement failed inside `body` and `body` caught the error, the transaction is rolled back and a
    /// ``PostgresError/Code/server`` error with SQLSTATE `25P02` is thrown instead of committing.
    /// - Parameters:
    ///   - body: The transaction's statements, run on the given connection.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws (after rollback), or a ``PostgresError`` from `BEGIN`/`COMMIT`.
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in try await connection.inTransaction(body) }
    }

    /// Closes idle connections, fails waiting callers with ``PostgresError/Code/poolClosed``, and stops the
    /// thread pool once running statements finish. Connections in use are closed when they are released.
    public func close() async {
        let (idle, waiters, wasClosed) = state.withLock { state in
            let result = (state.idle, state.waiters, state.closed)
            state.opened -= state.idle.count
            state.idle = []
            state.waiters = []
            state.closed = true
            return result
        }
        guard !wasClosed else { return }
        for waiter in waiters { waiter.continuation.resume(throwing: closedError()) }
        _ = idle  // dropping the boxes closes them (PQfinish in deinit)
        try? await threadPool.shutdownGracefully()
    }

    // MARK: Pool internals

    private enum Decision {
        case closed
        case reuse(LibPQConnection)
        case open
        case wait
    }

    private func closedError() -> PostgresError {
        PostgresError(code: .poolClosed, message: "the PostgreSQL client for \(configuration.redactedDescription) is closed")
    }

    private func checkout() async throws -> LibPQConnection {
        while true {
            try Task.checkCancellation()
            let decision: Decision = state.withLock { state in
                if state.closed { return .closed }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                if state.opened < configuration.poolSize {
                    state.opened += 1
                    return .open
                }
                return .wait
            }
            switch decision {
            case .closed:
                throw closedError()
            case .reuse(let connection):
                if connection.isAliveWhileIdle() { return connection }
                discard(connection, reason: "found closed while idle")
            case .open:
                return try await openConnection()
            case .wait:
                switch try await waitForGrant() {
                case .connection(let connection):
                    if connection.isAliveWhileIdle() { return connection }
                    discard(connection, reason: "found closed while idle")
                case .slot:
                    return try await openConnection()
                }
            }
        }
    }

    /// Opens a connection in a slot already counted in `opened`; gives the slot back on failure.
    private func openConnection() async throws -> LibPQConnection {
        do {
            let options = try ConnectionOptions(configuration: configuration)
            let id = state.withLock { state in
                state.nextConnectionID += 1
                return state.nextConnectionID
            }
            let connectionString = configuration.connectionString
            let logger = self.logger
            let connection = try await threadPool.runIfActive {
                try LibPQConnection.connect(options: options, connectionString: connectionString, id: id, logger: logger)
            }
            connection.logger.debug("postgres connection opened")
            return connection
        } catch {
            giveBackSlot()
            if error is NIOThreadPoolError.ThreadPoolInactive { throw closedError() }
            throw error
        }
    }

    private func giveBackSlot() {
        let waiter: CheckedContinuation<Grant, any Error>? = state.withLock { state in
            state.opened -= 1
            guard !state.closed, !state.waiters.isEmpty else { return nil }
            state.opened += 1
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: .slot)
    }

    private func discard(_ connection: LibPQConnection, reason: String) {
        connection.logger.info("postgres connection discarded", metadata: [PostgresLogKey.reason: "\(reason)"])
        giveBackSlot()
    }

    private func release(_ connection: LibPQConnection) {
        connection.endLease()
        guard connection.isReusable else {
            discard(connection, reason: "not reusable after use (closed, cancelled or mid-transaction)")
            return
        }
        let waiter: CheckedContinuation<Grant, any Error>? = state.withLock { state in
            if state.closed {
                state.opened -= 1
                return nil
            }
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: .connection(connection))
    }

    /// Waits in FIFO order for a connection or a slot, up to the checkout timeout.
    private func waitForGrant() async throws -> Grant {
        let timeout = configuration.checkoutTimeout
        let waiterID = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let grant: Grant? = try await withThrowingTaskGroup(of: Grant?.self) { group in
            group.addTask { try await self.enqueue(waiterID) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var grant: Grant?
            // The first child to finish decides; the other is cancelled. A grant that races with the timeout is
            // still taken (never dropped), because every child's result is drained.
            if let first = try await group.next() { grant = first }
            group.cancelAll()
            while let next = try? await group.next() {
                if let next { grant = next }
            }
            return grant
        }
        if let grant { return grant }
        try Task.checkCancellation()
        throw PostgresError(
            code: .poolTimeout,
            message: "no PostgreSQL connection to \(configuration.redactedDescription) became free within \(timeout) (poolSize \(configuration.poolSize))"
        )
    }

    private func enqueue(_ waiterID: Int) async throws -> Grant {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let failure: (any Error)? = state.withLock { state in
                    if state.closed { return closedError() }
                    if Task.isCancelled { return CancellationError() }
                    state.waiters.append((waiterID, continuation))
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Grant, any Error>? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
