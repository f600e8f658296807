/// PostgreSQL array literals for binding a list as one parameter (`= ANY($1::bigint[])`, `unnest($1::text[])`):
/// one statement for any number of values, instead of one statement per value.
public enum SQLArray {
    /// `{1,2,3}`.
    /// - Parameters:
    ///   - values: The integers, in order.
    public static func bigints(_ values: some Sequence<Int64>) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }

    /// `{1,NULL,3}`.
    /// - Parameters:
    ///   - values: The integers, nil for SQL `NULL`.
    public static func optionalInts(_ values: some Sequence<Int?>) -> String {
        "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    /// `{"a","b\"c",NULL}`: every element quoted, `"` and `\` escaped.
    /// - Parameters:
    ///   - values: The strings, nil for SQL `NULL`.
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
