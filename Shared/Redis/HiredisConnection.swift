import CHiredis
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one hiredis `redisContext` and frees it in `deinit`.
///
/// Threading: every method except ``interrupt(closing:)`` and ``interrupt(operation:)`` must run on the single
/// thread of the owning client's `NIOThreadPool`; that thread is the only one that touches `context`, which is
/// why this box alone is `@unchecked Sendable`. The interrupt methods only `shutdown(2)` the socket under a lock
/// that the owner thread also takes before it frees the context, so they can never hit a reused descriptor.
final class HiredisConnection: @unchecked Sendable {
    let configuration: RedisConfiguration
    private let logger: Logger
    private var context: UnsafeMutablePointer<redisContext>?
    private var appliedTimeoutMS: Int64 = -1
    private let socket = Mutex(SocketState())

    private struct SocketState {
        var fd: Int32?
        var closed = false
        /// The command currently blocked on the socket (0: none), so cancelling one caller never breaks another's command.
        var operation: UInt64 = 0
        var interruptedOperation: UInt64 = 0
    }

    init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        if let context { redisFree(context) }
    }

    var defaultTimeoutMS: Int64 { configuration.commandTimeout.milliseconds }

    // MARK: Any thread

    /// Shuts the socket down so that a blocked read returns at once; with `closing`, no new connection is made afterwards.
    func interrupt(closing: Bool) {
        socket.withLock { state in
            if closing { state.closed = true }
            if let fd = state.fd { _ = chiredis_shutdown(fd) }
        }
    }

    /// Shuts the socket down only if `operation` is the command blocked on it right now (task cancellation).
    func interrupt(operation: UInt64) {
        socket.withLock { state in
            guard state.operation == operation, let fd = state.fd else { return }
            state.interruptedOperation = operation
            _ = chiredis_shutdown(fd)
        }
    }

    var isClosed: Bool { socket.withLock { $0.closed } }

    /// Blocks SIGPIPE on the calling (connection) thread. hiredis writes with `write(2)`, and a write to a socket the
    /// server has closed would otherwise raise SIGPIPE and kill the process; blocked, the write fails with EPIPE and
    /// becomes an ``RedisError/Code/io`` error. Thread-local, so the process's own signal setup is left alone.
    static func blockSIGPIPEOnCurrentThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    // MARK: Owner thread

    /// Makes sure a usable connection exists: reconnects when there is none or the server closed the idle one
    /// (e.g. after a restart), which is detected without sending anything, so no command is ever sent twice.
    func prepare() throws(RedisError) {
        if isClosed { throw closedError() }
        if let context {
            if chiredis_err(context) == 0 && chiredis_connection_stale(chiredis_fd(context)) == 0 { return }
            logger.debug("redis connection is stale, reconnecting", metadata: [RedisLogKey.address: "\(configuration.address)"])
            drop()
        }
        try connect()
    }

    /// One connection attempt (no retry): the master's address from Sentinel when configured, TCP connect, keepalive,
    /// socket timeouts, `AUTH`, `SELECT`, and with Sentinel a check that the server is the master (`ROLE`).
    func connect() throws(RedisError) {
        drop()
        let target = configuration.sentinels.isEmpty
            ? RedisConfiguration.Endpoint(host: configuration.host, port: configuration.port)
            : try SentinelDiscovery.master(configuration)
        let address = configuration.sentinels.isEmpty ? configuration.address : "\(target.address) (master \(configuration.masterName ?? ""))"
        guard let newContext = chiredis_connect(target.host, Int32(target.port), configuration.connectTimeout.milliseconds) else {
            throw RedisError(.connectionFailed, message: "redis at \(address): cannot allocate a connection")
        }
        if chiredis_err(newContext) != 0 {
            let reason = String(cString: chiredis_errstr(newContext))
            redisFree(newContext)
            throw RedisError(.connectionFailed, message: "redis at \(address): \(reason.lowercasingFirst)")
        }
        _ = redisEnableKeepAlive(newContext)
        _ = chiredis_set_timeout(newContext, defaultTimeoutMS)
        appliedTimeoutMS = defaultTimeoutMS
        let registered = socket.withLock { state in
            guard !state.closed else { return false }
            state.fd = chiredis_fd(newContext)
            return true
        }
        guard registered else {
            redisFree(newContext)
            throw closedError()
        }
        context = newContext

        if let password = configuration.password {
            var argv = ["AUTH"]
            if let username = configuration.username { argv.append(username) }
            argv.append(password)
            if case .error(let message) = try roundTrip(Argv(argv), timeoutMS: defaultTimeoutMS, operation: 0) {
                drop()
                throw RedisError(.authenticationFailed, message: "redis at \(address): authentication failed: \(message)")
            }
        }
        if configuration.database != 0 {
            if case .error(let message) = try roundTrip(Argv(["SELECT", String(configuration.database)]), timeoutMS: defaultTimeoutMS, operation: 0) {
                drop()
                throw RedisError(.authenticationFailed, message: "redis at \(address): SELECT \(configuration.database) failed: \(message)")
            }
        }
        if !configuration.sentinels.isEmpty {
            // Right after a failover a sentinel may still name the old master, now a replica: writes there would fail.
            let role = try roundTrip(Argv(["ROLE"]), timeoutMS: defaultTimeoutMS, operation: 0)
            guard case .array(let parts) = role, parts.first?.string == "master" else {
                drop()
                throw RedisError(.connectionFailed, message: "redis at \(address): not the master yet (ROLE \(role)); Sentinel is failing over")
            }
        }
        logger.debug("redis connected", metadata: [RedisLogKey.address: "\(address)"])
    }

    /// Frees the context (closing the socket).
    func drop() {
        guard let context else { return }
        socket.withLock { $0.fd = nil }
        redisFree(context)
        self.context = nil
    }

    /// Sends one command and reads its reply. Error replies come back as `.error`.
    func command(_ argv: Argv, timeoutMS: Int64? = nil, operation: UInt64) throws(RedisError) -> RESPValue {
        try prepare()
        let reply = try roundTrip(argv, timeoutMS: timeoutMS ?? defaultTimeoutMS, operation: operation)
        dropIfDemoted(reply)
        return reply
    }

    /// Sends all commands in one write and reads all replies. Error replies come back as `.error`.
    func pipeline(_ commands: Argv, operation: UInt64) throws(RedisError) -> [RESPValue] {
        try prepare()
        guard let context else { throw closedError() }
        applyTimeout(defaultTimeoutMS)
        begin(operation)
        defer { end() }
        let rc = commands.withUnsafeEncoded { redisAppendFormattedCommand(context, $0, $1) }
        guard rc == REDIS_OK else { throw failure(operation: operation) }
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for _ in 0..<commands.count {
            replies.append(try readReply(operation: operation))
        }
        if !configuration.sentinels.isEmpty, let refused = replies.first(where: \.isReadOnlyRefusal) { dropIfDemoted(refused) }
        return replies
    }

    /// A master demoted to a replica answers writes with `-READONLY`: with Sentinel the connection is dropped, so the
    /// next command asks the sentinels again and reaches the new master. The refused command did not run.
    private func dropIfDemoted(_ reply: RESPValue) {
        guard !configuration.sentinels.isEmpty, reply.isReadOnlyRefusal else { return }
        logger.warning("redis answered READONLY: the master was demoted; asking Sentinel again", metadata: [RedisLogKey.address: "\(configuration.address)"])
        drop()
    }

    /// Sends `SUBSCRIBE` and consumes the confirmations.
    func subscribe(_ channels: [String]) throws(RedisError) {
        try prepare()
        guard let context else { throw closedError() }
        applyTimeout(defaultTimeoutMS)
        let rc = Argv(["SUBSCRIBE"] + channels).withUnsafeEncoded { redisAppendFormattedCommand(context, $0, $1) }
        guard rc == REDIS_OK else { throw failure(operation: 0) }
        for _ in channels {
            let reply = try readReply(operation: 0)
            if case .error(let message) = reply {
                drop()
                throw RedisError(.server, message: message)
            }
        }
    }

    /// Waits up to `maxWaitMS` for a pushed message on a subscribed connection; nil when none arrived.
    func readPush(maxWaitMS: Int32) throws(RedisError) -> RESPValue? {
        guard let context else { throw RedisError(.io, message: "redis at \(configuration.address): not connected") }
        var reply: UnsafeMutablePointer<redisReply>?
        guard chiredis_buffered_reply(context, &reply) == REDIS_OK else { throw failure(operation: 0) }
        if let reply {
            defer { chiredis_free_reply(reply) }
            return RESPValue(reply)
        }
        let ready = chiredis_wait_readable(chiredis_fd(context), maxWaitMS)
        if ready == 0 { return nil }
        return try readReply(operation: 0)
    }

    // MARK: Private

    private func roundTrip(_ argv: Argv, timeoutMS: Int64, operation: UInt64) throws(RedisError) -> RESPValue {
        guard let context else { throw closedError() }
        applyTimeout(timeoutMS)
        begin(operation)
        defer { end() }
        let rc = argv.withUnsafeEncoded { redisAppendFormattedCommand(context, $0, $1) }
        guard rc == REDIS_OK else { throw failure(operation: operation) }
        return try readReply(operation: operation)
    }

    private func readReply(operation: UInt64) throws(RedisError) -> RESPValue {
        guard let context else { throw closedError() }
        var reply: UnsafeMutablePointer<redisReply>?
        guard chiredis_get_reply(context, &reply) == REDIS_OK, let reply else {
            throw failure(operation: operation)
        }
        defer { chiredis_free_reply(reply) }
        return RESPValue(reply)
    }

    private func applyTimeout(_ timeoutMS: Int64) {
        guard let context, timeoutMS != appliedTimeoutMS else { return }
        _ = chiredis_set_timeout(context, timeoutMS)
        appliedTimeoutMS = timeoutMS
    }

    private func begin(_ operation: UInt64) {
        guard operation != 0 else { return }
        socket.withLock { $0.operation = operation }
    }

    private func end() {
        socket.withLock { $0.operation = 0 }
    }

    /// Turns the context's error into a typed error and drops the connection (its state is unknown after any failure).
    private func failure(operation: UInt64) -> RedisError {
        let savedErrno = chiredis_errno()
        let address = configuration.address
        let code = context.map { chiredis_err($0) } ?? REDIS_ERR_EOF
        let reason = context.map { String(cString: chiredis_errstr($0)) } ?? "not connected"
        let (closed, cancelled) = socket.withLock { ($0.closed, operation != 0 && $0.interruptedOperation == operation) }
        drop()
        if closed { return closedError() }
        if cancelled { return RedisError(.cancelled, message: "redis at \(address): command cancelled") }
        switch code {
        case REDIS_ERR_IO where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK:
            return RedisError(.timeout, message: "redis at \(address): no reply within the command timeout")
        case REDIS_ERR_EOF:
            return RedisError(.io, message: "redis at \(address): server closed the connection")
        case REDIS_ERR_PROTOCOL:
            return RedisError(.protocolError, message: "redis at \(address): \(reason.lowercasingFirst)")
        default:
            return RedisError(.io, message: "redis at \(address): \(reason.lowercasingFirst)")
        }
    }

    private func closedError() -> RedisError {
        RedisError(.closed, message: "redis at \(configuration.address): client is closed")
    }
}

/// One or more commands already encoded as RESP arrays of bulk strings, handed to hiredis in a single
/// `redisAppendFormattedCommand` call (hiredis' own argv formatting costs an allocation per argument).
struct Argv: Sendable {
    private(set) var encoded: [UInt8] = []
    /// Number of commands in `encoded`.
    private(set) var count = 0

    init() {}

    init(_ arguments: [String]) {
        append(arguments)
    }

    init(bytes arguments: [[UInt8]]) {
        encoded.reserveCapacity(arguments.reduce(16) { $0 + $1.count + 16 })
        appendHeader(UInt8(ascii: "*"), arguments.count)
        for argument in arguments {
            appendHeader(UInt8(ascii: "$"), argument.count)
            encoded.append(contentsOf: argument)
            encoded.append(13)
            encoded.append(10)
        }
        count += 1
    }

    /// Appends one command.
    mutating func append(_ arguments: [String]) {
        appendHeader(UInt8(ascii: "*"), arguments.count)
        for argument in arguments {
            let utf8 = argument.utf8
            appendHeader(UInt8(ascii: "$"), utf8.count)
            if utf8.withContiguousStorageIfAvailable({ encoded.append(contentsOf: $0) }) == nil {
                encoded.append(contentsOf: utf8)
            }
            encoded.append(13)
            encoded.append(10)
        }
        count += 1
    }

    mutating func reserveCapacity(_ bytes: Int) {
        encoded.reserveCapacity(bytes)
    }

    private mutating func appendHeader(_ prefix: UInt8, _ value: Int) {
        encoded.append(prefix)
        if value < 10 {
            encoded.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var length = 0
            var rest = value
            withUnsafeMutableBytes(of: &digits) { buffer in
                while rest > 0 {
                    buffer[length] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    length += 1
                }
                for index in stride(from: length - 1, through: 0, by: -1) { encoded.append(buffer[index]) }
            }
        }
        encoded.append(13)
        encoded.append(10)
    }

    func withUnsafeEncoded<R>(_ body: (UnsafePointer<CChar>, Int) -> R) -> R {
        encoded.withUnsafeBytes { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }
}

extension RESPValue {
    /// Copies a hiredis reply tree into Swift values.
    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            self = .bulkString(node.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: node.str, count: node.len)))
        case REDIS_REPLY_STATUS:
            self = .simpleString(String(decoding: UnsafeRawBufferPointer(start: node.str, count: node.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: UnsafeRawBufferPointer(start: node.str, count: node.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(node.integer)
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                elements.append(RESPValue(chiredis_reply_element(reply, index)))
            }
            self = .array(elements)
        default:
            self = .null
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so that a non-zero duration never becomes "no timeout".
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return attoseconds % 1_000_000_000_000_000 > 0 ? millis + 1 : millis
    }
}

extension String {
    var lowercasingFirst: String {
        guard let first else { return self }
        return first.lowercased() + dropFirst()
    }
}

extension RESPValue {
    /// `-READONLY You can't write against a read only replica.`
    var isReadOnlyRefusal: Bool {
        if case .error(let message) = self { return message.hasPrefix("READONLY") }
        return false
    }
}
