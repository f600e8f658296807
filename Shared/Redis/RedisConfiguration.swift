import SharedBasics

/// Where and how to connect to Redis.
///
/// Built from a URL of the form `redis://[[username]:password@]host[:port][/database]`:
/// `redis://127.0.0.1:6379`, `redis://:secret@cache:6380/2`, `redis://app:secret@cache/0`, `redis://[::1]:6379`.
/// Percent-encoded characters in the username and password are decoded. `rediss://` (TLS) is not supported.
///
/// Or, to find the master through Redis Sentinel and follow its failovers,
/// `redis+sentinel://[[username]:password@]sentinel[:port][,sentinel[:port]...]/master-name[/database]`
/// (sentinel port 26379 by default; the credentials and database are the master's).
public struct RedisConfiguration: Sendable, Equatable {
    /// One host and port.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        /// `host:port`, IPv6 hosts in brackets.
        public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    /// TCP port, 6379 when the URL has none.
    public var port: Int
    /// ACL user name for `AUTH username password`, nil for `AUTH password` (or no auth).
    public var username: String?
    /// Password; nil when the server needs no authentication.
    public var password: String?
    /// Database index selected with `SELECT` after connecting (0 when the URL has no path).
    public var database: Int
    /// The sentinels to ask for the master's address, in order; empty to connect to ``host`` and ``port`` directly.
    public var sentinels: [Endpoint] = []
    /// The master's name in Sentinel (`sentinel monitor <name> ...`); set whenever ``sentinels`` is.
    public var masterName: String?
    /// Limit for establishing the TCP connection.
    public var connectTimeout: Duration
    /// Limit for each read or write on the socket; blocking commands add their block time to it.
    public var commandTimeout: Duration
    /// How many connection attempts one call makes before it fails (at least 1).
    public var reconnectAttempts: Int = 4
    /// Delay before the second attempt; doubled for each further attempt, with jitter.
    public var reconnectBaseDelay: Duration = .milliseconds(100)
    /// Upper bound for the delay between attempts.
    public var reconnectMaxDelay: Duration = .seconds(2)

    /// The backoff between connection attempts: ``reconnectBaseDelay`` doubled per attempt up to ``reconnectMaxDelay``.
    var reconnectBackoff: Backoff { Backoff(base: reconnectBaseDelay, cap: reconnectMaxDelay) }

    /// Parses a `redis://` URL.
    /// - Parameters:
    ///   - url: `redis://[[username]:password@]host[:port][/database]` or `redis+sentinel://sentinel[:port],.../master-name[/database]`.
    ///   - connectTimeout: Limit for establishing the TCP connection.
    ///   - commandTimeout: Limit for each socket read or write while running a command.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL`` saying what is wrong (the password is not echoed).
    public init(url: String, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5)) throws(RedisError) {
        let parsed = try URLParser.parse(url)
        self.host = parsed.host
        self.port = parsed.port
        self.username = parsed.username
        self.password = parsed.password
        self.database = parsed.database
        self.sentinels = parsed.sentinels
        self.masterName = parsed.masterName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Creates a configuration from its parts.
    /// - Parameters:
    ///   - host: Host name or IP address.
    ///   - port: TCP port.
    ///   - username: ACL user name, if any.
    ///   - password: Password, if any.
    ///   - database: Database index.
    ///   - connectTimeout: Limit for establishing the TCP connection.
    ///   - commandTimeout: Limit for each socket read or write while running a command.
    public init(
        host: String,
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// `host:port` (IPv6 hosts in brackets), for messages and log metadata.
    public var address: String {
        if let masterName, !sentinels.isEmpty {
            return "master \(masterName) via sentinel \(sentinels.map(\.address).joined(separator: ","))"
        }
        return Endpoint(host: host, port: port).address
    }

    /// The URL with the password replaced by `***`, safe for logs.
    public var redactedURL: String {
        var credentials = ""
        if password != nil {
            credentials = "\(username.map(percentEncode) ?? ""):***@"
        } else if let username {
            credentials = "\(percentEncode(username))@"
        }
        if let masterName, !sentinels.isEmpty {
            return "redis+sentinel://\(credentials)\(sentinels.map(\.address).joined(separator: ","))/\(masterName)/\(database)"
        }
        return "redis://\(credentials)\(address)/\(database)"
    }
}

private func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        let scalar = Unicode.Scalar(byte)
        if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-._~".unicodeScalars.contains(scalar) {
            out.unicodeScalars.append(scalar)
        } else {
            out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
    }
    return out
}

private enum URLParser {
    struct Parts {
        var host: String
        var port: Int
        var username: String?
        var password: String?
        var database: Int
        var sentinels: [RedisConfiguration.Endpoint] = []
        var masterName: String?
    }

    static func parse(_ url: String) throws(RedisError) -> Parts {
        func invalid(_ reason: String) -> RedisError {
            RedisError(.invalidURL, message: "invalid Redis URL: \(reason) (expected redis://[[user]:password@]host[:port][/db])")
        }
        let trimmed = url.trimmingWhitespace()
        guard let schemeEnd = trimmed.range(of: "://") else { throw invalid("missing scheme") }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        let sentinel = scheme == "redis+sentinel"
        guard scheme == "redis" || sentinel else {
            if scheme == "rediss" { throw invalid("TLS (rediss://) is not supported") }
            throw invalid("scheme must be redis:// or redis+sentinel://, not \(scheme)://")
        }
        var rest = Substring(trimmed[schemeEnd.upperBound...])
        if rest.contains("?") || rest.contains("#") { throw invalid("query parameters and fragments are not supported") }

        // Split off the path (database) first, then credentials at the last '@' (passwords may contain '@').
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                username = user.isEmpty ? nil : try decode(user, invalid)
                password = try decode(userInfo[userInfo.index(after: colon)...], invalid)
            } else if !userInfo.isEmpty {
                throw invalid("a user name needs a password (use redis://user:password@host or redis://:password@host)")
            }
        }

        if sentinel {
            let sentinels = try rest.split(separator: ",", omittingEmptySubsequences: false).map { entry throws(RedisError) in
                let (host, port) = try hostAndPort(entry, defaultPort: 26379, invalid)
                return RedisConfiguration.Endpoint(host: host, port: port)
            }
            let names = path.split(separator: "/", omittingEmptySubsequences: false)
            guard let name = names.first, !name.isEmpty else { throw invalid("a sentinel URL needs the master's name: redis+sentinel://host:26379/mymaster") }
            guard names.count <= 2 else { throw invalid("unexpected path after the master's name and database") }
            var database = 0
            if names.count == 2 {
                guard let value = Int(names[1]), value >= 0 else { throw invalid("database must be a non-negative integer, got '\(names[1])'") }
                database = value
            }
            return Parts(
                host: sentinels[0].host, port: sentinels[0].port, username: username, password: password, database: database,
                sentinels: sentinels, masterName: String(name)
            )
        }
        let (host, port) = try hostAndPort(rest, defaultPort: 6379, invalid)
        var database = 0
        if !path.isEmpty {
            guard let value = Int(path), value >= 0 else { throw invalid("database must be a non-negative integer, got '\(path)'") }
            database = value
        }
        return Parts(host: host, port: port, username: username, password: password, database: database)
    }

    /// `host[:port]` or `[v6]:port`.
    private static func hostAndPort(_ text: Substring, defaultPort: Int, _ invalid: (String) -> RedisError) throws(RedisError) -> (String, Int) {
        let rest = text
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        guard !host.contains(where: { $0 == " " || $0 == "@" || $0 == "/" }) else {
            throw invalid("malformed host")
        }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port must be a number from 1 to 65535, got '\(portText)'")
            }
            port = value
        }
        return (String(host), port)
    }

    private static func decode(_ text: Substring, _ invalid: (String) -> RedisError) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { throw invalid("bad percent-encoding in credentials") }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice = slice.dropFirst() }
        while slice.last?.isWhitespace == true { slice = slice.dropLast() }
        return String(slice)
    }

    fileprivate func range(of needle: String) -> Range<String.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index..<self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
