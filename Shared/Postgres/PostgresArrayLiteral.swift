/// PostgreSQL array literals for binding a list as one parameter (`= ANY($1::bigint[])`, `unnest($1::text[])`):
/// one statement for any number of values, instead of one statement per value. The literal is a bound parameter's
/// value, never SQL text.
public enum PostgresArrayLiteral {
    /// `{1,2,3}`.
    /// - Parameters:
    ///   - values: The integers.
    public static func bigints(_ values: some Sequence<Int64>) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }

    /// `{1,NULL,3}` for a `bigint[]`.
    /// - Parameters:
    ///   - values: The integers; nil becomes `NULL`.
    public static func optionalBigints(_ values: some Sequence<Int64?>) -> String {
        "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    /// `{1,NULL,3}`.
    /// - Parameters:
    ///   - values: The integers; nil becomes `NULL`.
    public static func optionalInts(_ values: some Sequence<Int?>) -> String {
        "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    /// `{"a","b\"c",NULL}`: every element quoted, `"` and `\` escaped, so any text (commas, braces, spaces) survives.
    /// - Parameters:
    ///   - values: The texts; nil becomes `NULL`.
    public static func texts(_ values: some Sequence<String?>) -> String {
        var out = "{"
        var first = true
        for value in values {
            if !first { out += "," }
            first = false
            guard let value else {
                out += "NULL"
                continue
            }
            out += "\""
            for character in value {
                if character == "\"" || character == "\\" { out += "\\" }
                out.append(character)
            }
            out += "\""
        }
        return out + "}"
    }
}
