import Foundation
import Logging
import NIOCore
import NIOPosix

/// A connection checked out of a ``PostgresClient`` for the duration of `withConnection` or `transaction`.
///
/// Do not keep it after the closure returns: it goes back to the pool, and calls on a stale handle throw.
/// Every statement takes its values as bound parameters (`$1`, `$2`, …); SQL text is never built from values.
public final class PostgresConnection: Sendable {
    let box: LibPQConnection
    let threadPool: NIOThreadPool
    let lease: Int

    init(box: LibPQConnection, threadPool: NIOThreadPool, lease: Int) {
        self.box = box
        self.threadPool = threadPool
        self.lease = lease
    }

    /// Runs a query and returns all its rows.
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, … placeholders.
    ///   - binds: The placeholder values in order; `nil` is SQL `NULL`.
    /// - Returns: The rows, values in text format.
    /// - Throws: ``PostgresError`` (``PostgresError/Code/server`` with ``PostgresError/sqlState`` for statement errors,
    ///   ``PostgresError/Code/connectionLost`` when the server went away), or `CancellationError`.
    public func query(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> [PostgresRow] {
        let encoded = try EncodedBinds(binds)
        return try await run { try $0.execute(sql, encoded).rows }
    }

    /// Runs a statement and returns the number of rows it affected.
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, … placeholders.
    ///   - binds: The placeholder values in order; `nil` is SQL `NULL`.
    /// - Returns: The affected row count (0 for statements that report none).
    /// - Throws: ``PostgresError`` or `CancellationError`.
    @discardableResult
    public func execute(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> Int {
        let encoded = try EncodedBinds(binds)
        return try await run { try $0.execute(sql, encoded).affected }
    }

    /// Bulk-writes rows with `COPY table (columns) FROM STDIN` in text format.
    ///
    /// Values are escaped for COPY text format (backslash, tab, newline, carriage return; `nil` becomes `\N`), and
    /// the table and column names are quoted as identifiers. A schema-qualified table is written `schema.table`.
    /// - Parameters:
    ///   - table: The target table, optionally `schema.table`.
    ///   - columns: The target columns; each row has one value per column, in this order.
    ///   - rows: The rows to write; encoded and sent in chunks, so the sequence may be lazy and large.
    /// - Returns: The number of rows the server wrote.
    /// - Throws: ``PostgresError/Code/copyFailed`` (server rejected the data; nothing is written),
    ///   ``PostgresError/Code/encoding`` (a row has the wrong number of values or a NUL byte), or a connection error.
    public func copyIn(table: String, columns: [String], rows: some Sequence<[(any PostgresEncodable)?]>) async throws -> Int {
        guard !columns.isEmpty else { throw PostgresError(code: .encoding, message: "copyIn needs at least one column") }
        let sql = "COPY \(SQLIdentifier.qualified(table)) (\(columns.map(SQLIdentifier.quoted).joined(separator: ", "))) FROM STDIN"
        try await run { try $0.beginCopy(sql) }
        let chunkSize = 1 << 18
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize + 4096)
        var encodingError: PostgresError?
        var rowNumber = 0
        // Double buffering: the next chunk is encoded here while the previous one is sent on the thread pool.
        try await withThrowingTaskGroup(of: Void.self) { sends in
            var sending = false
            for row in rows {
                rowNumber += 1
                guard row.count == columns.count else {
                    encodingError = PostgresError(code: .encoding, message: "copyIn row \(rowNumber) has \(row.count) values for \(columns.count) columns")
                    break
                }
                if let error = CopyTextEncoder.append(row, to: &buffer) {
                    encodingError = PostgresError(code: .encoding, message: "copyIn row \(rowNumber): \(error)")
                    break
                }
                if buffer.count >= chunkSize {
                    if sending { try await sends.next() }
                    let chunk = buffer
                    buffer = []
                    buffer.reserveCapacity(chunkSize + 4096)
                    sends.addTask { try await self.run { try $0.putCopyData(chunk) } }
                    sending = true
                }
            }
            if sending { try await sends.next() }
        }
        if encodingError == nil, !buffer.isEmpty {
            let chunk = buffer
            try await run { try $0.putCopyData(chunk) }
        }
        if let encodingError {
            let abortMessage = encodingError.message
            _ = try? await run { try $0.endCopy(abortMessage: abortMessage) }  // the server's "COPY failed" echo adds nothing
            throw encodingError
        }
        return try await run { try $0.endCopy(abortMessage: nil) }
    }

    /// Runs `body` inside `BEGIN`/`COMMIT` on this connection; on any thrown error `ROLLBACK`, then rethrow.
    func inTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await execute("BEGIN")
        let value: T
        do {
            value = try await body(self)
        } catch {
            await rollbackQuietly()
            throw error
        }
        if box.isInFailedTransaction {
            // The body swallowed a statement error: COMMIT would silently roll back, so say so.
            await rollbackQuietly()
            throw PostgresError(code: .server, message: "transaction rolled back: a statement inside it failed", sqlState: "25P02")
        }
        try await execute("COMMIT")
        return value
    }

    private func rollbackQuietly() async {
        // A broken connection cannot roll back, but the server discards its transaction anyway; the pool
        // retires the connection on release because it is not idle.
        _ = try? await run { try $0.executeScript("ROLLBACK") }
    }

    /// Runs trusted, static SQL that may hold several statements (simple query protocol), e.g. a migration file.
    func executeScript(_ sql: String) async throws {
        try await run { try $0.executeScript(sql) }
    }

    /// Runs a blocking libpq call on the client's thread pool; cancelling the task sends a cancel request.
    private func run<T: Sendable>(_ body: @escaping @Sendable (LibPQConnection) throws -> T) async throws -> T {
        guard box.isCurrentLease(lease) else {
            throw PostgresError(code: .poolClosed, message: "connection used after withConnection/transaction returned")
        }
        try Task.checkCancellation()
        let box = self.box
        do {
            return try await withTaskCancellationHandler {
                try await threadPool.runIfActive { try body(box) }
            } onCancel: {
                box.requestCancel()
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw PostgresError(code: .poolClosed, message: "the PostgreSQL client for \(box.target) was closed")
        } catch let error as PostgresError where error.sqlState == "57014" && Task.isCancelled {
            throw CancellationError()
        }
    }
}

/// Identifier quoting for the few places where a name (not a value) goes into SQL text.
enum SQLIdentifier {
    /// `"name"` with embedded quotes doubled.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `schema.table` → `"schema"."table"`.
    static func qualified(_ name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).map { quoted(String($0)) }.joined(separator: ".")
    }
}

/// COPY text-format row encoding.
enum CopyTextEncoder {
    /// Appends one row terminated by a newline; returns a description of the problem instead of throwing (hot loop).
    static func append(_ row: [(any PostgresEncodable)?], to buffer: inout [UInt8]) -> String? {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(0x09) }
            guard let value else {
                buffer.append(0x5C); buffer.append(0x4E)  // \N
                continue
            }
            guard type(of: value).postgresTextMayNeedEscaping else {
                value.appendPostgresText(to: &buffer)
                continue
            }
            var text = value.postgresText
            let failed: Bool = text.withUTF8 { utf8 in
                for byte in utf8 {
                    switch byte {
                    case 0x5C: buffer.append(0x5C); buffer.append(0x5C)
                    case 0x09: buffer.append(0x5C); buffer.append(0x74)
                    case 0x0A: buffer.append(0x5C); buffer.append(0x6E)
                    case 0x0D: buffer.append(0x5C); buffer.append(0x72)
                    case 0x00: return true
                    default: buffer.append(byte)
                    }
                }
                return false
            }
            if failed { return "value \(index + 1) contains a NUL byte" }
        }
        buffer.append(0x0A)
        return nil
    }
}
