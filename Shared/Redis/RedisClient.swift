import Logging
import NIOCore
import NIOPosix
import SharedBasics
import Synchronization

/// A Redis client over hiredis: one connection, commands run one at a time in FIFO order.
///
/// Every blocking hiredis call runs on this client's own single-thread `NIOThreadPool`, never on Swift's cooperative
/// pool. The connection is made lazily (or eagerly with ``connect()``); after an I/O error, timeout or server restart
/// it is dropped, and the next call reconnects with capped exponential backoff and jitter, making at most
/// ``RedisConfiguration/reconnectAttempts`` attempts before it throws ``RedisError/Code/connectionFailed``.
/// A command that failed after it was sent is never re-sent (it may have run), so its caller gets the error.
///
/// Because commands are serialised, a blocking read (`XREADGROUP ... BLOCK`) holds up everything queued behind it:
/// give each blocking consumer its own `RedisClient`. ``close()`` unblocks such a read promptly.
public final class RedisClient: Sendable {
    /// Where this client connects.
    public let configuration: RedisConfiguration
    let logger: Logger
    private let connection: HiredisConnection
    private let pool: NIOThreadPool
    private let closed = Atomic<Bool>(false)
    private let operations = Atomic<UInt64>(0)
    /// Subscriptions made through this client, held weakly, so that ``close()`` ends them too.
    private let subscriptions = Mutex<[@Sendable () async -> Void]>([])

    /// Creates a client; no connection is made until the first command or ``connect()``.
    /// - Parameters:
    ///   - configuration: Address, credentials and timeouts.
    ///   - logger: Logger for connection events; the password is never logged.
    public init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: RedisLogKey.address] = "\(configuration.address)"
        self.logger = logger
        self.connection = HiredisConnection(configuration: configuration, logger: logger)
        self.pool = NIOThreadPool(numberOfThreads: 1)
        self.pool.start()
        // The pool's only thread runs this before any command (FIFO).
        self.pool.submit { _ in HiredisConnection.blockSIGPIPEOnCurrentThread() }
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            connection.interrupt(closing: true)
            pool.shutdownGracefully { _ in }
        }
    }

    /// Connects now (with the usual retries) so that startup fails early when Redis is unreachable.
    /// - Throws: ``RedisError`` naming the address, e.g. `redis at 127.0.0.1:6390: connection refused`.
    public func connect() async throws {
        try await run { connection, _ in try connection.prepare() }
    }

    /// Sends one command.
    /// - Parameters:
    ///   - arguments: The command and its arguments, e.g. `["SET", "key", "value"]`.
    /// - Returns: The reply.
    /// - Throws: ``RedisError``; an error reply from the server is thrown with code ``RedisError/Code/server``.
    @discardableResult
    public func send(_ arguments: [String]) async throws -> RESPValue {
        guard !arguments.isEmpty else { throw RedisError(.protocolError, message: "empty command") }
        return try await send(argv: Argv(arguments), timeout: nil)
    }

    /// Sends one command with binary-safe arguments.
    /// - Parameters:
    ///   - arguments: The command and its arguments as raw bytes.
    /// - Returns: The reply.
    /// - Throws: ``RedisError``; an error reply from the server is thrown with code ``RedisError/Code/server``.
    @discardableResult
    public func send(bytes arguments: [[UInt8]]) async throws -> RESPValue {
        guard !arguments.isEmpty else { throw RedisError(.protocolError, message: "empty command") }
        return try await send(argv: Argv(bytes: arguments), timeout: nil)
    }

    /// Sends several commands in one round trip.
    /// - Parameters:
    ///   - commands: The commands, each as its argument list.
    /// - Returns: One reply per command, in order; error replies are returned as ``RESPValue/error(_:)``, not thrown.
    /// - Throws: ``RedisError`` when the connection fails.
    public func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        guard !commands.contains(where: \.isEmpty) else { throw RedisError(.protocolError, message: "empty command in pipeline") }
        var encoded = Argv()
        encoded.reserveCapacity(commands.count * 64)
        for command in commands { encoded.append(command) }
        return try await run { [encoded] connection, operation in try connection.pipeline(encoded, operation: operation) }
    }

    /// Sends `PING`.
    /// - Throws: ``RedisError`` when Redis does not answer `PONG`.
    public func ping() async throws {
        let reply = try await send(["PING"])
        guard reply.string == "PONG" else {
            throw RedisError(.protocolError, message: "redis at \(configuration.address): unexpected PING reply \(reply)")
        }
    }

    /// Publishes a message on a pub/sub channel.
    /// - Parameters:
    ///   - message: The payload.
    ///   - channel: The channel name.
    /// - Returns: How many subscribers received it.
    /// - Throws: ``RedisError``.
    @discardableResult
    public func publish(_ message: String, to channel: String) async throws -> Int {
        try await integer(send(["PUBLISH", channel, message]), "PUBLISH")
    }

    /// Subscribes to pub/sub channels on a dedicated connection.
    ///
    /// The subscription is confirmed before this returns. It survives server restarts (it reconnects and subscribes
    /// again; messages published while it was disconnected are lost, as pub/sub does not store them).
    /// - Parameters:
    ///   - channels: Channel names (at least one).
    /// - Returns: An `AsyncSequence` of messages; ending the iteration, cancelling the iterating task or calling
    ///   ``RedisSubscription/close()`` unsubscribes and closes its connection.
    /// - Throws: ``RedisError`` when the first connection or `SUBSCRIBE` fails.
    public func subscribe(to channels: [String]) async throws -> RedisSubscription {
        guard !channels.isEmpty else { throw RedisError(.protocolError, message: "subscribe needs at least one channel") }
        if closed.load(ordering: .acquiring) { throw RedisError(.closed, message: "redis at \(configuration.address): client is closed") }
        let subscription = try await RedisSubscription.start(configuration: configuration, channels: channels, logger: logger)
        let closer: @Sendable () async -> Void = { [weak core = subscription.core] in await core?.close() }
        subscriptions.withLock { $0.append(closer) }
        if closed.load(ordering: .acquiring) { await subscription.close() }
        return subscription
    }

    /// Closes the connection and every subscription made with ``subscribe(to:)``. Idempotent; a command blocked in a
    /// read (e.g. `XREADGROUP ... BLOCK`) ends at once with ``RedisError/Code/closed``, and later calls fail with the same code.
    public func close() async {
        let wasClosed = closed.exchange(true, ordering: .acquiringAndReleasing)
        connection.interrupt(closing: true)
        guard !wasClosed else { return }
        for closeSubscription in subscriptions.withLock({ $0 }) { await closeSubscription() }
        subscriptions.withLock { $0.removeAll() }
        _ = try? await pool.runIfActive { [connection] in connection.drop() }
        try? await pool.shutdownGracefully()
    }

    // MARK: Internals shared with the Streams extension

    func send(argv: Argv, timeout: Duration?) async throws -> RESPValue {
        let timeoutMS = timeout?.milliseconds
        let reply = try await run { connection, operation in
            try connection.command(argv, timeoutMS: timeoutMS, operation: operation)
        }
        if case .error(let message) = reply { throw RedisError(.server, message: message) }
        return reply
    }

    func integer(_ reply: RESPValue, _ command: String) throws -> Int {
        guard case .integer(let value) = reply else { throw unexpected(reply, command) }
        return Int(value)
    }

    func unexpected(_ reply: RESPValue, _ command: String) -> RedisError {
        RedisError(.protocolError, message: "redis at \(configuration.address): unexpected \(command) reply: \(reply)")
    }

    /// Runs `body` on the connection thread, reconnecting with backoff while the connection cannot be established.
    private func run<T: Sendable>(
        _ body: @escaping @Sendable (HiredisConnection, UInt64) throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            if closed.load(ordering: .acquiring) { throw RedisError(.closed, message: "redis at \(configuration.address): client is closed") }
            let operation = operations.add(1, ordering: .relaxed).newValue
            let connection = self.connection
            do {
                return try await withTaskCancellationHandler {
                    try await pool.runIfActive { try body(connection, operation) }
                } onCancel: {
                    connection.interrupt(operation: operation)
                }
            } catch let error as RedisError {
                if error.code == .cancelled { throw CancellationError() }
                guard error.code == .connectionFailed, attempt < configuration.reconnectAttempts, !closed.load(ordering: .acquiring) else {
                    throw error
                }
                let delay = configuration.reconnectBackoff.delay(afterFailures: attempt)
                logger.warning(
                    "redis connect failed, retrying",
                    metadata: [RedisLogKey.attempt: "\(attempt)", RedisLogKey.delayMS: "\(delay.milliseconds)", RedisLogKey.error: "\(error.message)"]
                )
                attempt += 1
                try await Task.sleep(for: delay)
            } catch is NIOThreadPoolError.ThreadPoolInactive {
                throw RedisError(.closed, message: "redis at \(configuration.address): client is closed")
            }
        }
    }
}
