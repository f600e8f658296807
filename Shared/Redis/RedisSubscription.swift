import Logging
import NIOCore
import NIOPosix
import SharedBasics
import Synchronization

/// A message received on a subscribed pub/sub channel.
public struct RedisPubSubMessage: Sendable, Equatable {
    /// The channel it was published on.
    public var channel: String
    /// The raw payload.
    public var payload: [UInt8]
    /// The payload decoded as UTF-8.
    public var string: String { String(decoding: payload, as: UTF8.self) }

    /// Creates a message.
    /// - Parameters:
    ///   - channel: The channel name.
    ///   - payload: The raw payload.
    public init(channel: String, payload: [UInt8]) {
        self.channel = channel
        self.payload = payload
    }
}

/// A pub/sub subscription on its own connection, consumed with `for await message in subscription`.
///
/// Single-consumer: iterate it once. When the connection is lost (e.g. the server restarts) the iteration does not
/// end: it reconnects with capped backoff, subscribes again and keeps yielding (messages published while it was
/// disconnected are lost). The iteration ends, and the connection is closed, when the loop is left (`break`), the
/// iterating task is cancelled, ``close()`` is called, or the last copy of the subscription is dropped.
public struct RedisSubscription: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = RedisPubSubMessage
    /// Iteration never throws; connection problems are retried and logged.
    public typealias Failure = Never

    let core: SubscriptionCore

    /// The subscribed channels.
    public var channels: [String] { core.channels }

    /// Starts the iteration.
    /// - Returns: The iterator; dropping it ends the subscription.
    public func makeAsyncIterator() -> Iterator {
        Iterator(core: core, token: IterationToken(core: core))
    }

    /// Unsubscribes and closes the connection; a pending `next()` returns nil. Idempotent.
    public func close() async {
        await core.close()
    }

    /// The iterator of a ``RedisSubscription``.
    public struct Iterator: AsyncIteratorProtocol {
        let core: SubscriptionCore
        let token: IterationToken

        /// Waits for the next message.
        /// - Returns: The message, or nil once the subscription has ended.
        public mutating func next() async -> RedisPubSubMessage? {
            await core.next()
        }
    }

    static func start(configuration: RedisConfiguration, channels: [String], logger: Logger) async throws -> RedisSubscription {
        let core = SubscriptionCore(configuration: configuration, channels: channels, logger: logger)
        do {
            try await core.establish(retrying: configuration.reconnectAttempts)
        } catch {
            await core.close()
            throw error
        }
        return RedisSubscription(core: core)
    }
}

/// Ends the subscription when the iterator is dropped (e.g. `break` out of `for await`).
final class IterationToken: Sendable {
    let core: SubscriptionCore
    init(core: SubscriptionCore) { self.core = core }
    deinit { core.terminate() }
}

/// The connection and thread of one subscription.
final class SubscriptionCore: Sendable {
    let channels: [String]
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let connection: HiredisConnection
    private let pool: NIOThreadPool
    private let finished = Atomic<Bool>(false)
    private let poolStopped = Atomic<Bool>(false)

    /// How long one read on the connection thread waits before returning to check for shutdown.
    private static let readSliceMS: Int32 = 1000

    init(configuration: RedisConfiguration, channels: [String], logger: Logger) {
        self.configuration = configuration
        self.channels = channels
        var logger = logger
        logger[metadataKey: RedisLogKey.channels] = "\(channels.joined(separator: ","))"
        self.logger = logger
        self.connection = HiredisConnection(configuration: configuration, logger: logger)
        self.pool = NIOThreadPool(numberOfThreads: 1)
        self.pool.start()
        // The pool's only thread runs this before any command (FIFO).
        self.pool.submit { _ in HiredisConnection.blockSIGPIPEOnCurrentThread() }
    }

    deinit {
        terminate()
    }

    /// Connects and subscribes, making up to `attempts` attempts (unbounded when nil).
    func establish(retrying attempts: Int?) async throws {
        var attempt = 1
        while true {
            if finished.load(ordering: .acquiring) { throw RedisError(.closed, message: "redis at \(configuration.address): subscription is closed") }
            do {
                let connection = self.connection
                let channels = self.channels
                try await pool.runIfActive { try connection.subscribe(channels) }
                return
            } catch let error as RedisError {
                let retryable = error.code == .connectionFailed || error.code == .io || error.code == .timeout
                if !retryable || attempts.map({ attempt >= $0 }) == true { throw error }
                let delay = configuration.reconnectBackoff.delay(afterFailures: attempt)
                logger.warning(
                    "redis subscribe failed, retrying",
                    metadata: [RedisLogKey.attempt: "\(attempt)", RedisLogKey.delayMS: "\(delay.milliseconds)", RedisLogKey.error: "\(error.message)"]
                )
                attempt += 1
                try await Task.sleep(for: delay)
            } catch is NIOThreadPoolError.ThreadPoolInactive {
                throw RedisError(.closed, message: "redis at \(configuration.address): subscription is closed")
            }
        }
    }

    func next() async -> RedisPubSubMessage? {
        while !finished.load(ordering: .acquiring) {
            if Task.isCancelled {
                terminate()
                return nil
            }
            let connection = self.connection
            let outcome: Result<RESPValue?, RedisError>
            do {
                outcome = try await withTaskCancellationHandler {
                    try await pool.runIfActive { () -> Result<RESPValue?, RedisError> in
                        do throws(RedisError) {
                            return .success(try connection.readPush(maxWaitMS: Self.readSliceMS))
                        } catch {
                            return .failure(error)
                        }
                    }
                } onCancel: {
                    connection.interrupt(closing: true)
                }
            } catch {
                terminate()  // cancelled or pool stopped
                return nil
            }
            switch outcome {
            case .success(.none):
                continue
            case .success(.some(let value)):
                if let message = Self.message(from: value) { return message }
            case .failure(let error):
                if finished.load(ordering: .acquiring) || error.code == .closed || Task.isCancelled {
                    terminate()
                    return nil
                }
                logger.warning("redis subscription lost, resubscribing", metadata: [RedisLogKey.error: "\(error.message)"])
                do {
                    try await establish(retrying: nil)
                    logger.info("redis subscription restored")
                } catch {
                    terminate()
                    return nil
                }
            }
        }
        return nil
    }

    /// Marks the subscription finished, unblocks a pending read and stops the thread (without waiting).
    func terminate() {
        finished.store(true, ordering: .releasing)
        connection.interrupt(closing: true)
        if !poolStopped.exchange(true, ordering: .acquiringAndReleasing) {
            pool.shutdownGracefully { _ in }
        }
    }

    func close() async {
        finished.store(true, ordering: .releasing)
        connection.interrupt(closing: true)
        guard !poolStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let connection = self.connection
        _ = try? await pool.runIfActive { connection.drop() }
        try? await pool.shutdownGracefully()
    }

    /// `["message", channel, payload]` becomes a message; confirmations and other pushes are skipped.
    static func message(from value: RESPValue) -> RedisPubSubMessage? {
        guard let parts = value.array, parts.count == 3, parts[0].string == "message",
            let channel = parts[1].string, let payload = parts[2].bytes
        else { return nil }
        return RedisPubSubMessage(channel: channel, payload: payload)
    }
}
