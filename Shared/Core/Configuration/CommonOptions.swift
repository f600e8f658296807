import ArgumentParser

/// Command-line flags every service accepts. Flags override the environment and the `.env` file.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Address to bind (HOST).")
    public var host: String?

    @Option(name: .long, help: "HTTP port (PORT).")
    public var port: Int?

    @Option(name: .customLong("redis-url"), help: "Redis URL, redis://[:password@]host:port[/db] (REDIS_URL).")
    public var redisURL: String?

    @Option(name: .customLong("database-url"), help: "PostgreSQL connection string (DATABASE_URL).")
    public var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (LOG_LEVEL).")
    public var logLevel: String?

    @Option(name: .customLong("log-format"), help: "human or json (LOG_FORMAT).")
    public var logFormat: String?

    @Option(name: .customLong("env-file"), help: "A .env file to read (default: ./.env if present).")
    public var envFile: String = ".env"

    public init() {}

    /// The flags that were given, keyed by environment-variable name.
    public var flagValues: [String: String] {
        var values: [String: String] = [:]
        values[ConfigKey.host.name] = host
        values[ConfigKey.port.name] = port.map(String.init)
        values[ConfigKey.redisURL.name] = redisURL
        values[ConfigKey.databaseURL.name] = databaseURL
        values[ConfigKey.logLevel.name] = logLevel
        values[ConfigKey.logFormat.name] = logFormat
        return values
    }

    /// The layered configuration source these flags select.
    /// - Parameter extraFlags: Further service-specific flag values, keyed by environment-variable name.
    public func configSource(extraFlags: [String: String] = [:]) throws(ConfigError) -> ConfigSource {
        try ConfigSource(flags: flagValues.merging(extraFlags) { _, extra in extra }, dotEnvPath: envFile)
    }
}
