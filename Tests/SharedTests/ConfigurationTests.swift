import Foundation
import Logging
import Shared
import SharedBasics
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test("flags override the environment, which overrides the .env file")
    func precedence() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let envFile = directory.appendingPathComponent(".env").path
        try """
        # comment
        export REDIS_CHANNEL_PREFIX=from:file
        PORT=9000
        LOG_LEVEL='debug'
        """.write(toFile: envFile, atomically: true, encoding: .utf8)

        let source = try ConfigSource(flags: ["PORT": "9100"], environment: ["PORT": "9050", "LOG_LEVEL": "warning"], dotEnvPath: envFile)
        let config = try CommonConfiguration(source: source, defaultPort: 8080)
        #expect(config.port == 9100)
        #expect(config.logLevel == .warning)
        #expect(config.channelPrefix == "from:file")
        #expect(config.channels.eventsChannel == "from:file:events")
    }

    @Test("defaults follow the seeds and the deployment environment")
    func defaults() throws {
        let dev = try CommonConfiguration(source: ConfigSource(environment: [:], dotEnvPath: nil), defaultPort: 8081)
        #expect(dev.environment == .dev)
        #expect(dev.channelPrefix == "ticker:nifty")
        #expect(dev.channels.eventsStream == "ticker:nifty:events")
        #expect(dev.port == 8081)
        #expect(dev.logFormat == .human)
        let production = try CommonConfiguration(source: ConfigSource(environment: ["ENVIRONMENT": "production"], dotEnvPath: nil), defaultPort: 8081)
        #expect(production.logFormat == .json)
    }

    @Test("REDIS_SENTINELS and REDIS_MASTER_NAME become a redis+sentinel:// URL keeping REDIS_URL's credentials and database")
    func sentinels() throws {
        func url(_ environment: [String: String]) throws -> String {
            try CommonConfiguration(source: ConfigSource(environment: environment, dotEnvPath: nil), defaultPort: 8080).redisURL
        }
        #expect(try url(["REDIS_SENTINELS": "10.0.0.1:26379,10.0.0.2:26379", "REDIS_MASTER_NAME": "markets"]) == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/markets")
        #expect(
            try url(["REDIS_URL": "redis://:s3cret@ignored:6379/4", "REDIS_SENTINELS": "s1:26379", "REDIS_MASTER_NAME": "markets"])
                == "redis+sentinel://:s3cret@s1:26379/markets/4"
        )
        #expect(try url(["REDIS_URL": "redis+sentinel://s1:26379/markets"]) == "redis+sentinel://s1:26379/markets")
        for bad in [["REDIS_SENTINELS": "s1:26379"], ["REDIS_MASTER_NAME": "markets"], ["REDIS_SENTINELS": "s1:26379/x", "REDIS_MASTER_NAME": "m"],
                    ["REDIS_URL": "redis+sentinel://s1:26379/markets", "REDIS_SENTINELS": "s2:26379", "REDIS_MASTER_NAME": "markets"]] {
            #expect(throws: ConfigError.self, "\(bad)") { _ = try url(bad) }
        }
    }

    @Test("a bad value stops startup with an error naming the key and why", arguments: [
        (["PORT": "eighty"], "PORT"),
        (["PORT": "70000"], "PORT"),
        (["REDIS_URL": "http://x"], "REDIS_URL"),
        (["LOG_LEVEL": "loud"], "LOG_LEVEL"),
        (["ENVIRONMENT": "qa"], "ENVIRONMENT"),
        (["DATABASE_POOL_SIZE": "0"], "DATABASE_POOL_SIZE"),
    ])
    func badValues(environment: [String: String], key: String) {
        #expect {
            _ = try CommonConfiguration(source: ConfigSource(environment: environment, dotEnvPath: nil), defaultPort: 8080)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && error.description.contains(key)
        }
    }

    @Test("booleans accept the usual spellings and reject others")
    func booleans() throws {
        let source = try ConfigSource(environment: ["A": "yes", "B": "OFF", "C": "maybe"], dotEnvPath: nil)
        #expect(try source.bool(ConfigKey("A"), default: false))
        #expect(try !source.bool(ConfigKey("B"), default: true))
        #expect(try source.bool(ConfigKey("D"), default: true))
        #expect(throws: ConfigError.self) { try source.bool(ConfigKey("C"), default: true) }
    }

    @Test("secrets never appear in printed configuration or error messages")
    func redaction() throws {
        let source = try ConfigSource(environment: [
            "REDIS_URL": "redis://:s3cret@cache:6379/2",
            "DATABASE_URL": "postgresql://app:hunter2@db:5432/marketdata?sslmode=require",
        ], dotEnvPath: nil)
        _ = try CommonConfiguration(source: source, defaultPort: 8080)
        let printed = source.printableValues(declared: ConfigKey.commonKeys).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        #expect(!printed.contains("s3cret"))
        #expect(!printed.contains("hunter2"))
        #expect(printed.contains("redis://:***@cache:6379/2"))
        #expect(printed.contains("postgresql://app:***@db:5432/marketdata"))
        #expect(Redaction.redact("tok_abc", for: .apiKey) == "***")
        #expect(Redaction.redactURLPassword("host=db user=app password=hunter2 dbname=x") == "host=db user=app password=*** dbname=x")

        let secretError = #expect(throws: ConfigError.self) {
            _ = try ConfigSource(environment: ["API_KEY_ENABLED": "sometimes"], dotEnvPath: nil).bool(.apiKeyEnabled, default: true)
        }
        #expect(secretError?.description.contains("sometimes") == true)
    }

    @Test("a malformed .env file is reported with its line")
    func badDotEnv() throws {
        #expect {
            _ = try DotEnvFile.parse("GOOD=1\nthis line is wrong\n")
        } throws: { error in
            (error as? ConfigError)?.reason.contains("line 2") == true
        }
    }
}
