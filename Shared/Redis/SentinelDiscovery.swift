import CHiredis

/// Asks Redis Sentinel where the master is (`SENTINEL get-master-addr-by-name`), the way Sentinel clients do: the
/// sentinels in the configured order, the first answer wins. Runs on the owning connection's thread, blocking.
enum SentinelDiscovery {
    /// The master's current address.
    /// - Parameter configuration: A configuration with ``RedisConfiguration/sentinels`` and ``RedisConfiguration/masterName``.
    /// - Returns: Where the sentinels say the master is.
    /// - Throws: ``RedisError/Code/connectionFailed`` naming every sentinel and why it gave no address.
    static func master(_ configuration: RedisConfiguration) throws(RedisError) -> RedisConfiguration.Endpoint {
        let name = configuration.masterName ?? ""
        var failures: [String] = []
        for sentinel in configuration.sentinels {
            switch ask(sentinel, name: name, timeoutMS: configuration.connectTimeout.milliseconds) {
            case .success(let endpoint): return endpoint
            case .failure(let reason): failures.append("\(sentinel.address): \(reason)")
            }
        }
        throw RedisError(.connectionFailed, message: "no sentinel gave the address of master \(name) (\(failures.joined(separator: "; ")))")
    }

    private struct Refusal: Error {
        var reason: String
    }

    private static func ask(_ sentinel: RedisConfiguration.Endpoint, name: String, timeoutMS: Int64) -> Result<RedisConfiguration.Endpoint, Refusal> {
        guard let context = chiredis_connect(sentinel.host, Int32(sentinel.port), timeoutMS) else { return .failure(Refusal(reason: "cannot allocate a connection")) }
        defer { redisFree(context) }
        if chiredis_err(context) != 0 { return .failure(Refusal(reason: String(cString: chiredis_errstr(context)).lowercasingFirst)) }
        _ = chiredis_set_timeout(context, timeoutMS)
        let sent = Argv(["SENTINEL", "get-master-addr-by-name", name]).withUnsafeEncoded { redisAppendFormattedCommand(context, $0, $1) }
        var reply: UnsafeMutablePointer<redisReply>?
        guard sent == REDIS_OK, chiredis_get_reply(context, &reply) == REDIS_OK, let reply else {
            return .failure(Refusal(reason: String(cString: chiredis_errstr(context)).lowercasingFirst))
        }
        defer { chiredis_free_reply(reply) }
        switch RESPValue(reply) {
        case .array(let parts) where parts.count == 2:
            guard let host = parts[0].string, let port = parts[1].int.map(Int.init), (1...65535).contains(port) else {
                return .failure(Refusal(reason: "unexpected reply \(parts)"))
            }
            return .success(RedisConfiguration.Endpoint(host: host, port: port))
        case .null: return .failure(Refusal(reason: "does not know master \(name)"))
        case .error(let message): return .failure(Refusal(reason: message))
        case let other: return .failure(Refusal(reason: "unexpected reply \(other)"))
        }
    }
}
