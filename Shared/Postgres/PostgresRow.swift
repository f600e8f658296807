/// Column names of one result, shared by all its rows.
final class PostgresColumns: Sendable {
    let names: [String]
    let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        self.indexByName = index
    }
}

/// One row of a query result, values in PostgreSQL's text format (`nil` is SQL `NULL`).
public struct PostgresRow: Sendable {
    let columns: PostgresColumns
    let values: [String?]

    init(columns: PostgresColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The result's column names, in order.
    public var columnNames: [String] { columns.names }

    /// The number of columns.
    public var count: Int { values.count }

    /// The raw text of a column; nil when the value is `NULL` or there is no such column.
    /// - Parameters:
    ///   - column: The column name (the first one when several share it).
    public subscript(column: String) -> String? {
        guard let index = columns.indexByName[column] else { return nil }
        return values[index]
    }

    /// The raw text of a column by position; nil when the value is `NULL` or the index is out of range.
    /// - Parameters:
    ///   - index: Zero-based column position.
    public subscript(index: Int) -> String? {
        guard values.indices.contains(index) else { return nil }
        return values[index]
    }

    /// Decodes a non-NULL column.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - column: The column name.
    /// - Returns: The decoded value.
    /// - Throws: ``PostgresError/Code/decoding`` when the column is missing, `NULL`, or not a valid value.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        guard let value = try decodeIfPresent(type, column) else {
            throw PostgresError(code: .decoding, message: "column \"\(column)\" is NULL, expected \(T.self)")
        }
        return value
    }

    /// Decodes a non-NULL column by position.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - index: Zero-based column position.
    /// - Returns: The decoded value.
    /// - Throws: ``PostgresError/Code/decoding`` when the index is out of range, the value is `NULL`, or not valid.
    public func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard let value = try decodeIfPresent(type, at: index) else {
            throw PostgresError(code: .decoding, message: "column \(index) is NULL, expected \(T.self)")
        }
        return value
    }

    /// Decodes a column that may be `NULL`.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - column: The column name.
    /// - Returns: The decoded value, or nil for `NULL`.
    /// - Throws: ``PostgresError/Code/decoding`` when the column is missing or the value is not valid.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T? {
        guard let index = columns.indexByName[column] else {
            throw PostgresError(code: .decoding, message: "no column \"\(column)\" in result (columns: \(columns.names.joined(separator: ", ")))")
        }
        do {
            return try values[index].map { try T(postgresText: $0) }
        } catch var error as PostgresError {
            error.message += " (column \"\(column)\")"
            throw error
        }
    }

    /// Decodes a column that may be `NULL`, by position.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - index: Zero-based column position.
    /// - Returns: The decoded value, or nil for `NULL`.
    /// - Throws: ``PostgresError/Code/decoding`` when the index is out of range or the value is not valid.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T? {
        guard values.indices.contains(index) else {
            throw PostgresError(code: .decoding, message: "column index \(index) out of range (\(values.count) columns)")
        }
        return try values[index].map { try T(postgresText: $0) }
    }
}
