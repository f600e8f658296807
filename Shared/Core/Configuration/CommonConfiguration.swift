import Foundation

import Logging
import SharedBasics

/// The settings every service shares: where Redis and PostgreSQL are, the Redis prefix, logging and the
/// HTTP listener. Each service adds its own settings beside these.
public struct CommonConfiguration: Sendable {
    /// `ENVIRONMENT`.
    public var environment: DeploymentEnvironment
    /// `REDIS_URL`.
    public var redisURL: String
    /// `DATABASE_URL`; empty means libpq's `PG*` variables.
    public var databaseURL: String
    /// `DATABASE_POOL_SIZE`.
    public var databasePoolSize: Int
    /// `REDIS_CHANNEL_PREFIX`.
    public var channelPrefix: String
    /// `LOG_LEVEL`.
    public var logLevel: Logger.Level
    /// `LOG_FORMAT`.
    public var logFormat: LogFormat
    /// `HOST`.
    public var host: String
    /// `PORT`.
    public var port: Int
    /// `API_KEY_ENABLED`: whether endpoints that change state or spend broker quota require a key (default on outside
    /// dev and test).
    public var apiKeyEnabled: Bool

    /// The Redis names derived from ``channelPrefix``.
    public var channels: EventChannels { EventChannels(prefix: channelPrefix) }

    /// Reads and validates the shared settings.
    /// - Parameters:
    ///   - source: Where values come from.
    ///   - defaultPort: This service's default HTTP port.
    public init(source: ConfigSource, defaultPort: Int) throws(ConfigError) {
        environment = source.deployment
        redisURL = source.string(.redisURL, default: "redis://127.0.0.1:6379")
        guard redisURL.hasPrefix("redis://") || redisURL.hasPrefix("redis+sentinel://") else {
            throw ConfigError(
                .invalid, key: ConfigKey.redisURL.name, reason: "'\(Redaction.redactURLPassword(redisURL))' must start with redis:// or redis+sentinel://"
            )
        }
        redisURL = try Self.sentinelURL(redisURL, sentinels: source.string(.redisSentinels, default: ""), masterName: source.string(.redisMasterName, default: ""))
        databaseURL = source.string(.databaseURL, default: "postgresql://postgres@127.0.0.1:5432/marketdata")
        databasePoolSize = try source.int(.databasePoolSize, default: 10, in: 1...200)
        channelPrefix = source.string(.redisChannelPrefix, default: EventChannels.defaultPrefix)
        guard !channelPrefix.isEmpty, !channelPrefix.contains(where: \.isWhitespace) else {
            throw ConfigError(.invalid, key: ConfigKey.redisChannelPrefix.name, reason: "must be non-empty and contain no spaces")
        }
        logLevel = try source.value(.logLevel, default: source.deployment.isLocal ? .info : .notice)
        logFormat = try source.value(.logFormat, default: source.deployment.isLocal ? .human : .json)
        host = source.string(.host, default: "127.0.0.1")
        port = try source.int(.port, default: defaultPort, in: 1...65535)
        apiKeyEnabled = try source.bool(.apiKeyEnabled, default: !source.deployment.isLocal)
    }

    /// `REDIS_SENTINELS` and `REDIS_MASTER_NAME` folded into one `redis+sentinel://` URL, keeping `REDIS_URL`'s
    /// credentials and database (its host is then not used); `REDIS_URL` unchanged when neither is set.
    static func sentinelURL(_ redisURL: String, sentinels: String, masterName: String) throws(ConfigError) -> String {
        let sentinels = sentinels.trimmingCharacters(in: .whitespaces), masterName = masterName.trimmingCharacters(in: .whitespaces)
        if sentinels.isEmpty && masterName.isEmpty { return redisURL }
        guard !sentinels.isEmpty else { throw ConfigError(.invalid, key: ConfigKey.redisSentinels.name, reason: "REDIS_MASTER_NAME is set, so name the sentinels too (host:port,...)") }
        guard !masterName.isEmpty, !masterName.contains("/") else {
            throw ConfigError(.invalid, key: ConfigKey.redisMasterName.name, reason: "REDIS_SENTINELS is set, so name the master Sentinel monitors (no '/')")
        }
        guard !sentinels.contains(where: { $0 == "/" || $0 == "@" || $0.isWhitespace }) else {
            throw ConfigError(.invalid, key: ConfigKey.redisSentinels.name, reason: "'\(sentinels)' must be host:port,host:port")
        }
        guard !redisURL.hasPrefix("redis+sentinel://") else {
            throw ConfigError(.invalid, key: ConfigKey.redisSentinels.name, reason: "REDIS_URL already names the sentinels (redis+sentinel://); set one or the other")
        }
        // redis://[userinfo@]host[:port][/db]: keep the userinfo and the database.
        let authorityAndPath = redisURL.dropFirst("redis://".count)
        let authority = authorityAndPath.prefix { $0 != "/" }
        let path = authorityAndPath.dropFirst(authority.count)
        let userInfo = authority.lastIndex(of: "@").map { authority[...$0] } ?? ""
        let database = path.count > 1 ? String(path) : ""
        return "redis+sentinel://\(userInfo)\(sentinels)/\(masterName)\(database)"
    }

    /// Whether this is production with authentication turned off (`ENVIRONMENT=production`, `API_KEY_ENABLED=false`).
    public var isUnauthenticatedProduction: Bool { environment == .production && !apiKeyEnabled }

    /// Logs a warning at startup when ``isUnauthenticatedProduction``: anyone who reaches the port can then change
    /// subscriptions and spend broker quota.
    /// - Parameter logger: The service's logger.
    public func warnIfUnauthenticated(logger: Logger) {
        guard isUnauthenticatedProduction else { return }
        logger.warning(
            "API_KEY_ENABLED is false in production: endpoints that change state or spend broker quota accept requests without a key",
            metadata: ["environment": "\(environment.rawValue)", "api_key_enabled": "false"]
        )
    }
}
