import Foundation

/// Reads `.env` files: `KEY=value` lines, `#` comments, optional `export `, single or double quotes.
public enum DotEnvFile {
    /// Parses the text of a `.env` file.
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - fileName: Used in error messages.
    /// - Returns: The keys and values, later lines overriding earlier ones.
    public static func parse(_ text: String, fileName: String = ".env") throws(ConfigError) -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigError(.dotEnvFile, key: fileName, reason: "line \(index + 1) is not KEY=value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ConfigError(.dotEnvFile, key: fileName, reason: "line \(index + 1) has an invalid key")
            }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let quote = value.first, quote == "\"" || quote == "'" {
                guard value.count >= 2, value.last == quote else {
                    throw ConfigError(.dotEnvFile, key: fileName, reason: "line \(index + 1) has an unterminated quote")
                }
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = value
        }
        return values
    }

    /// Loads a `.env` file if it exists.
    /// - Parameter path: The file's path.
    /// - Returns: Its values, or an empty dictionary when there is no such file.
    public static func load(path: String) throws(ConfigError) -> [String: String] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(.dotEnvFile, key: path, reason: "cannot be read as UTF-8 text")
        }
        return try parse(text, fileName: path)
    }
}
