import CLibPQ
import Foundation
import SharedBasics

/// How to reach PostgreSQL and how many connections to keep.
///
/// The connection string is handed to libpq unchanged, so every form libpq understands works: URLs
/// (`postgresql://user@h1:5432,h2:5432/db?target_session_attrs=read-write`), `key=value` strings, and the empty
/// string, which means "use the standard `PG*` environment variables" (`PGHOST`, `PGPORT`, `PGDATABASE`, …).
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string (URL or `key=value` form); empty means the `PG*` environment variables.
    public var connectionString: String
    /// The most connections the pool opens at once.
    public var poolSize: Int
    /// How long establishing one connection may take (libpq `connect_timeout`, per host; at least 2 seconds).
    public var connectTimeout: Duration
    /// `application_name` shown in `pg_stat_activity`; when nil, the URL's or `PGAPPNAME`'s value, else the process name.
    public var applicationName: String?
    /// How long a caller waits for a free connection when all `poolSize` connections are busy.
    public var checkoutTimeout: Duration = .seconds(30)

    /// Creates a configuration.
    /// - Parameters:
    ///   - connectionString: A libpq connection string (URL or `key=value`); empty means the `PG*` environment variables.
    ///   - poolSize: The most connections the pool opens at once (at least 1).
    ///   - connectTimeout: How long establishing one connection may take.
    ///   - applicationName: `application_name` reported to the server; nil keeps the URL's or the process name.
    public init(connectionString: String = "", poolSize: Int = 10, connectTimeout: Duration = .seconds(5), applicationName: String? = nil) {
        self.connectionString = connectionString
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
    }

    /// A configuration from `DATABASE_URL` when it is set and not empty, otherwise from the `PG*` variables.
    /// - Parameters:
    ///   - environment: The environment to read (the process's by default).
    ///   - poolSize: The most connections the pool opens at once.
    ///   - applicationName: `application_name` reported to the server.
    /// - Returns: The configuration.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        poolSize: Int = 10,
        applicationName: String? = nil
    ) -> PostgresConfiguration {
        let url = environment["DATABASE_URL"]?.trimmingCharacters(in: .whitespaces) ?? ""
        return PostgresConfiguration(connectionString: url, poolSize: poolSize, applicationName: applicationName)
    }

    /// Checks the configuration without connecting: libpq's own parser (`PQconninfoParse`) for the connection
    /// string, port numbers, and the pool size.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/invalidConfiguration``.
    public func validate() throws {
        _ = try ConnectionOptions(configuration: self)
    }

    /// `host=… port=… dbname=… user=…` of the target with the password removed, for logs and error messages.
    /// Values not in the connection string come from the `PG*` environment variables and libpq's defaults.
    public var redactedDescription: String {
        guard let options = try? ConnectionOptions(configuration: self) else { return "<invalid connection string>" }
        return options.redactedTarget
    }
}

/// The parsed connection string plus the keyword/value pairs we hand to `PQconnectdbParams`.
struct ConnectionOptions: Sendable {
    /// Parsed values present in the connection string (libpq keywords, e.g. "host", "port").
    let parsed: [String: String]
    /// Pairs for `PQconnectdbParams` with `expand_dbname = 1`; the connection string itself comes first.
    let keywords: [(String, String)]
    let redactedTarget: String
    /// The password, kept only to scrub it from libpq messages.
    let password: String?

    init(configuration: PostgresConfiguration) throws {
        guard configuration.poolSize >= 1 else {
            throw PostgresError(code: .invalidConfiguration, message: "poolSize must be at least 1, got \(configuration.poolSize)")
        }
        let parsed = try Self.parse(configuration.connectionString)
        self.parsed = parsed
        self.password = parsed["password"]
        if let ports = parsed["port"] {
            for port in ports.split(separator: ",", omittingEmptySubsequences: false) where !port.isEmpty {
                guard let value = Int(port), (1...65_535).contains(value) else {
                    throw PostgresError(code: .invalidConfiguration, message: "invalid port \"\(port)\" in connection string")
                }
            }
        }

        let environment = ProcessInfo.processInfo.environment
        var pairs: [(String, String)] = []
        if !configuration.connectionString.isEmpty { pairs.append(("dbname", configuration.connectionString)) }
        func addDefault(_ key: String, _ value: String, env: String? = nil) {
            if parsed[key] != nil { return }
            if let env, let set = environment[env], !set.isEmpty { return }
            pairs.append((key, value))
        }
        let seconds = max(2, Int(configuration.connectTimeout.components.seconds))
        addDefault("connect_timeout", String(seconds), env: "PGCONNECT_TIMEOUT")
        // Keepalives and a TCP user timeout let a dead peer surface as an error instead of a hang, so queries
        // fail and shutdown can finish when the server or the network disappears.
        addDefault("keepalives", "1")
        addDefault("keepalives_idle", "30")
        addDefault("keepalives_interval", "10")
        addDefault("keepalives_count", "3")
        addDefault("tcp_user_timeout", "30000")
        addDefault("client_encoding", "UTF8", env: "PGCLIENTENCODING")
        if let name = configuration.applicationName {
            pairs.append(("application_name", name))
        } else {
            pairs.append(("fallback_application_name", ProcessInfo.processInfo.processName))
        }
        self.keywords = pairs
        self.redactedTarget = Self.describe(parsed: parsed)
    }

    /// Parses with libpq's parser; errors become `invalidConfiguration` with any password scrubbed.
    static func parse(_ connectionString: String) throws -> [String: String] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            var text = "invalid connection string"
            if let errorMessage {
                text += ": " + String(cString: errorMessage).trimmingCharacters(in: .whitespacesAndNewlines)
                PQfreemem(errorMessage)
            }
            throw PostgresError(code: .invalidConfiguration, message: Redaction.scrub(text, connectionString: connectionString))
        }
        defer { PQconninfoFree(options) }
        return Self.collect(options)
    }

    static func collect(_ options: UnsafeMutablePointer<PQconninfoOption>) -> [String: String] {
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { result[String(cString: keyword)] = String(cString: value) }
            cursor += 1
        }
        return result
    }

    /// The effective target: connection-string values first, then environment and libpq defaults.
    static func describe(parsed: [String: String]) -> String {
        var defaults: [String: String] = [:]
        if let options = PQconndefaults() {
            defaults = collect(options)
            PQconninfoFree(options)
        }
        func value(_ key: String) -> String? {
            if let value = parsed[key], !value.isEmpty { return value }
            if let value = defaults[key], !value.isEmpty { return value }
            return nil
        }
        let host = value("host") ?? value("hostaddr") ?? "<default socket>"
        let port = value("port") ?? "5432"
        let user = value("user")
        let dbname = value("dbname") ?? user ?? "<default>"
        var text = "host=\(host) port=\(port) dbname=\(dbname)"
        if let user { text += " user=\(user)" }
        return text
    }
}
