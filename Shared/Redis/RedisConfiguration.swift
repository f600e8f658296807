import SharedBasics

/// Where and how to connect to Redis.
///
/// Built from a URL of the form `redis://[[username]:password@]host[:port][/database]`:
/// `redis://127.0.0.1:6379`, `redis://:secret@cache:6380/2`, `redis://app:secret@cache/0`, `redis://[::1]:6379`.
/// Percent-encoded characters in the username and password are decoded. `rediss://` (TLS) is not supported.
public struct RedisConfiguration: Sendable, Equatable {
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
    ///   - url: `redis://[[username]:password@]host[:port][/database]`.
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
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL with the password replaced by `***`, safe for logs.
    public var redactedURL: String {
        var credentials = ""
        if password != nil {
            credentials = "\(username.map(percentEncode) ?? ""):***@"
        } else if let username {
            credentials = "\(percentEncode(username))@"
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
    }

    static func parse(_ url: String) throws(RedisError) -> Parts {
        func invalid(_ reason: String) -> RedisError {
            RedisError(.invalidURL, message: "invalid Redis URL: \(reason) (expected redis://[[user]:password@]host[:port][/db])")
        }
        let trimmed = url.trimmingWhitespace()
        guard let schemeEnd = trimmed.range(of: "://") else { throw invalid("missing scheme") }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            if scheme == "rediss" { throw invalid("TLS (rediss://) is not supported") }
            throw invalid("scheme must be redis://, not \(scheme)://")
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
        var port = 6379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port must be a number from 1 to 65535, got '\(portText)'")
            }
            port = value
        }
        var database = 0
        if !path.isEmpty {
            guard let value = Int(path), value >= 0 else { throw invalid("database must be a non-negative integer, got '\(path)'") }
            database = value
        }
        return Parts(host: String(host), port: port, username: username, password: password, database: database)
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
