import CLibPQ
import Foundation
import Logging
import SharedBasics
import Synchronization

/// Owner of one `PGconn` (and its `PGcancel`): the only `@unchecked Sendable` type in this module.
///
/// Thread-safety: a connection is leased to one task at a time by the pool, and every blocking call runs on the
/// client's thread pool while that task awaits it, so the `PGconn` is never used from two threads at once.
/// `requestCancel()` uses `PQcancel`, which libpq documents as safe to call from any thread.
final class LibPQConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    private let cancelHandle: OpaquePointer?
    let id: Int
    let target: String
    let logger: Logger
    private let password: String?
    private let connectionString: String
    /// Lease number and whether a cancel was sent during the current lease (the connection is then retired).
    private let leaseState = Mutex<(lease: Int, cancelSent: Bool)>((0, false))

    private init(conn: OpaquePointer, id: Int, options: ConnectionOptions, connectionString: String, logger: Logger) {
        self.conn = conn
        self.cancelHandle = PQgetCancel(conn)
        self.id = id
        self.target = options.redactedTarget
        self.password = options.password
        self.connectionString = connectionString
        var logger = logger
        logger[metadataKey: PostgresLogKey.connectionID] = "\(id)"
        self.logger = logger
    }

    deinit {
        // The notice processor points at self: detach it before anything else can call it.
        clibpq_silence_notices(conn)
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(conn)
    }

    /// Opens a connection (blocking: call on the thread pool).
    static func connect(
        options: ConnectionOptions,
        connectionString: String,
        id: Int,
        logger: Logger
    ) throws -> LibPQConnection {
        let pairs = options.keywords
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        for (key, value) in pairs {
            offsets.append(buffer.count); buffer.append(contentsOf: key.utf8); buffer.append(0)
            offsets.append(buffer.count); buffer.append(contentsOf: value.utf8); buffer.append(0)
        }
        let raw: OpaquePointer? = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                var keywords: [UnsafePointer<CChar>?] = []
                var values: [UnsafePointer<CChar>?] = []
                for pair in 0..<pairs.count {
                    keywords.append(chars.baseAddress! + offsets[2 * pair])
                    values.append(chars.baseAddress! + offsets[2 * pair + 1])
                }
                keywords.append(nil)
                values.append(nil)
                return PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let raw else {
            throw PostgresError(code: .connectionFailed, message: "could not connect to \(options.redactedTarget): out of memory")
        }
        guard clibpq_connection_ok(raw) != 0 else {
            let detail = Self.lastError(raw)
            PQfinish(raw)
            let message = Redaction.scrub(
                "could not connect to \(options.redactedTarget): \(detail)",
                connectionString: connectionString, password: options.password, minimumLength: 4
            )
            throw PostgresError(code: .connectionFailed, message: message)
        }
        let connection = LibPQConnection(conn: raw, id: id, options: options, connectionString: connectionString, logger: logger)
        // Server notices (e.g. "relation already exists, skipping") go to the logger, not stderr.
        PQsetNoticeProcessor(raw, { context, message in
            guard let context, let message else { return }
            let connection = Unmanaged<LibPQConnection>.fromOpaque(context).takeUnretainedValue()
            connection.logger.debug(
                "postgres notice",
                metadata: [PostgresLogKey.notice: "\(String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines))"]
            )
        }, Unmanaged.passUnretained(connection).toOpaque())
        // Text formats the decoders rely on, independent of server or PGDATESTYLE defaults.
        try connection.executeScript("SET DateStyle TO 'ISO, MDY'; SET bytea_output TO 'hex'; SET IntervalStyle TO 'postgres'")
        return connection
    }

    private static func lastError(_ conn: OpaquePointer) -> String {
        guard let message = PQerrorMessage(conn) else { return "unknown error" }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        // Multi-line libpq messages (one line per host tried) read better on one line.
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
    }

    // MARK: Lease bookkeeping (called by the pool and by PostgresConnection, any thread)

    /// Starts a new lease and returns its number.
    func beginLease() -> Int {
        leaseState.withLock { state in
            state.lease += 1
            state.cancelSent = false
            return state.lease
        }
    }

    /// Ends the current lease so stale `PostgresConnection` handles stop working.
    func endLease() {
        leaseState.withLock { $0.lease += 1 }
    }

    func isCurrentLease(_ lease: Int) -> Bool {
        leaseState.withLock { $0.lease == lease }
    }

    /// Asks the server to cancel whatever this connection is running; the connection is retired on release.
    func requestCancel() {
        leaseState.withLock { $0.cancelSent = true }
        guard let cancelHandle else { return }
        var errorBuffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &errorBuffer, Int32(errorBuffer.count))
    }

    /// Whether the connection can go back to the pool: open, outside any transaction, no cancel in flight.
    /// Only call while no operation runs on it.
    var isReusable: Bool {
        let cancelled = leaseState.withLock { $0.cancelSent }
        return !cancelled && clibpq_connection_ok(conn) != 0 && clibpq_transaction_idle(conn) != 0
    }

    /// Whether an idle connection still looks alive, without sending anything. A server that shut down or restarted
    /// has sent a FATAL and closed the socket: read and parse whatever is pending (libpq sockets are non-blocking)
    /// until the socket has nothing more, so the end of the stream is seen and the connection reports BAD.
    func isAliveWhileIdle() -> Bool {
        guard clibpq_connection_ok(conn) != 0 else { return false }
        let socket = PQsocket(conn)
        guard socket >= 0 else { return false }
        for _ in 0..<8 {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            guard PQconsumeInput(conn) == 1 else { return false }
            _ = PQisBusy(conn)  // parses what arrived; an error while idle is reported as a notice
            while let notification = PQnotifies(conn) { PQfreemem(notification) }
            guard clibpq_connection_ok(conn) != 0 else { return false }
        }
        return clibpq_connection_ok(conn) != 0
    }

    var isInFailedTransaction: Bool { clibpq_transaction_failed(conn) != 0 }

    // MARK: Blocking operations (thread pool only)

    /// Runs one statement with text-format parameters.
    func execute(_ sql: String, _ binds: EncodedBinds) throws -> (rows: [PostgresRow], affected: Int) {
        let result: OpaquePointer? = binds.bytes.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                var pointers = [UnsafePointer<CChar>?]()
                pointers.reserveCapacity(binds.offsets.count)
                for offset in binds.offsets {
                    pointers.append(offset < 0 ? nil : UnsafePointer(chars.baseAddress! + offset))
                }
                return pointers.withUnsafeBufferPointer { values in
                    clibpq_exec_text_params(conn, sql, Int32(values.count), values.baseAddress)
                }
            }
        }
        return try consume(result, expectingCopy: false)
    }

    /// Runs trusted static SQL (possibly several statements) with the simple query protocol.
    func executeScript(_ sql: String) throws {
        _ = try consume(PQexec(conn, sql), expectingCopy: false)
    }

    /// Sends `COPY … FROM STDIN`; on success the connection is in COPY IN state.
    func beginCopy(_ sql: String) throws {
        _ = try consume(PQexec(conn, sql), expectingCopy: true)
    }

    /// Sends one chunk of COPY data.
    func putCopyData(_ chunk: [UInt8]) throws {
        let status = chunk.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else { throw connectionError(during: "COPY") }
    }

    /// Ends COPY (or aborts it with `errorMessage`) and returns the number of rows copied.
    func endCopy(abortMessage: String?) throws -> Int {
        guard PQputCopyEnd(conn, abortMessage) == 1 else { throw connectionError(during: "COPY") }
        var firstError: PostgresError?
        var count = 0
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            if clibpq_result_kind(result) == 3 {
                if firstError == nil { firstError = serverError(result, code: .copyFailed) }
            } else if let tuples = PQcmdTuples(result) {
                count = Int(String(cString: tuples)) ?? count
            }
        }
        if let firstError { throw firstError }
        guard clibpq_connection_ok(conn) != 0 else { throw connectionError(during: "COPY") }
        return count
    }

    /// Converts a result into rows (or an error), always clearing it and draining any further results.
    private func consume(_ result: OpaquePointer?, expectingCopy: Bool) throws -> (rows: [PostgresRow], affected: Int) {
        guard let result else { throw connectionError(during: "query") }
        defer { PQclear(result) }
        switch clibpq_result_kind(result) {
        case 0:
            return ([], Self.affectedRows(result))
        case 1:
            return (Self.rows(of: result), Self.affectedRows(result))
        case 2 where expectingCopy:
            return ([], 0)
        case 2:
            _ = PQputCopyEnd(conn, "COPY is only supported through copyIn")
            drainResults()
            throw PostgresError(code: .server, message: "COPY FROM STDIN is only supported through copyIn(table:columns:rows:)")
        case 3:
            let state = clibpq_result_sqlstate(result).map { String(cString: $0) }
            // 57P01..57P03: the server is shutting down or restarting; the session is gone either way.
            if clibpq_connection_ok(conn) == 0 || (state?.hasPrefix("57P") ?? false) {
                var error = connectionError(during: "query")
                error.code = .connectionLost
                error.sqlState = state
                throw error
            }
            throw serverError(result, code: expectingCopy ? .copyFailed : .server)
        default:
            let status = String(cString: PQresStatus(PQresultStatus(result)))
            drainResults()
            throw PostgresError(code: .server, message: "unexpected result status \(status) on \(target)")
        }
    }

    private func drainResults() {
        while let extra = PQgetResult(conn) { PQclear(extra) }
    }

    private func serverError(_ result: OpaquePointer, code: PostgresError.Code) -> PostgresError {
        let sqlState = clibpq_result_sqlstate(result).map { String(cString: $0) }
        var message = clibpq_result_primary_message(result).map { String(cString: $0) }
            ?? PQresultErrorMessage(result).map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? "unknown server error"
        if let detail = clibpq_result_detail(result) { message += " (\(String(cString: detail)))" }
        return PostgresError(code: code, message: message, sqlState: sqlState)
    }

    private func connectionError(during operation: String) -> PostgresError {
        let detail = Self.lastError(conn)
        let message = Redaction.scrub(
            "connection to \(target) lost during \(operation): \(detail)",
            connectionString: connectionString, password: password, minimumLength: 4
        )
        return PostgresError(code: clibpq_connection_ok(conn) == 0 ? .connectionLost : .server, message: message)
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        guard let text = PQcmdTuples(result), text.pointee != 0 else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    private static func rows(of result: OpaquePointer) -> [PostgresRow] {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = PostgresColumns(names: (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) })
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return rows
    }
}

/// Bound parameters flattened into one NUL-separated buffer (`offsets[i] == -1` is SQL NULL).
struct EncodedBinds: Sendable {
    var bytes: [UInt8] = []
    var offsets: [Int] = []

    static let maximumCount = 65_535

    init(_ binds: [(any PostgresEncodable)?]) throws {
        guard binds.count <= Self.maximumCount else {
            throw PostgresError(code: .encoding, message: "\(binds.count) parameters exceed PostgreSQL's limit of \(Self.maximumCount)")
        }
        offsets.reserveCapacity(binds.count)
        bytes.reserveCapacity(binds.count * 12)
        for (index, bind) in binds.enumerated() {
            guard let bind else { offsets.append(-1); continue }
            offsets.append(bytes.count)
            let start = bytes.count
            bind.appendPostgresText(to: &bytes)
            if type(of: bind).postgresTextMayNeedEscaping, bytes[start...].contains(0) {
                throw PostgresError(code: .encoding, message: "parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot hold")
            }
            bytes.append(0)
        }
        if bytes.isEmpty { bytes.append(0) }  // a valid base address even with only NULLs or no binds
    }
}

/// Metadata keys this module logs with, in one namespace.
enum PostgresLogKey {
    static let target = "postgres.target"
    static let connectionID = "postgres.connection_id"
    static let notice = "postgres.notice"
    static let reason = "postgres.reason"
    static let error = "postgres.error"
    static let migrationVersion = "postgres.migration.version"
    static let migrationName = "postgres.migration.name"
}
