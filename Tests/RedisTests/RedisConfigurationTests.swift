import SharedRedis
import Testing

@Suite("RedisConfiguration URL parsing")
struct RedisConfigurationTests {
    @Test func plainHostAndPort() throws {
        let config = try RedisConfiguration(url: "redis://127.0.0.1:6390")
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 6390)
        #expect(config.username == nil)
        #expect(config.password == nil)
        #expect(config.database == 0)
        #expect(config.connectTimeout == .seconds(2))
        #expect(config.commandTimeout == .seconds(5))
    }

    @Test func defaultPort() throws {
        let config = try RedisConfiguration(url: "redis://cache")
        #expect(config.host == "cache")
        #expect(config.port == 6379)
    }

    @Test func passwordOnlyAndDatabase() throws {
        let config = try RedisConfiguration(url: "redis://:s3cret@redis.internal:6380/2", connectTimeout: .seconds(1), commandTimeout: .seconds(3))
        #expect(config.username == nil)
        #expect(config.password == "s3cret")
        #expect(config.host == "redis.internal")
        #expect(config.port == 6380)
        #expect(config.database == 2)
        #expect(config.connectTimeout == .seconds(1))
        #expect(config.commandTimeout == .seconds(3))
    }

    @Test func userPasswordWithEncodedCharacters() throws {
        let config = try RedisConfiguration(url: "redis://app:p%40ss%3Aw0rd@10.0.0.5/0")
        #expect(config.username == "app")
        #expect(config.password == "p@ss:w0rd")
        #expect(config.host == "10.0.0.5")
        #expect(config.port == 6379)
    }

    @Test func rawAtSignInPassword() throws {
        let config = try RedisConfiguration(url: "redis://:a@b@localhost:7000")
        #expect(config.password == "a@b")
        #expect(config.host == "localhost")
    }

    @Test func ipv6() throws {
        let config = try RedisConfiguration(url: "redis://[::1]:6379/1")
        #expect(config.host == "::1")
        #expect(config.address == "[::1]:6379")
        #expect(config.database == 1)
    }

    @Test func redactedURLHidesPassword() throws {
        let config = try RedisConfiguration(url: "redis://app:topsecret@cache:6380/3")
        #expect(config.redactedURL == "redis://app:***@cache:6380/3")
        #expect(!config.redactedURL.contains("topsecret"))
        let noAuth = try RedisConfiguration(url: "redis://cache")
        #expect(noAuth.redactedURL == "redis://cache:6379/0")
    }

    @Test func sentinelURL() throws {
        let config = try RedisConfiguration(url: "redis+sentinel://:topsecret@10.0.0.1:26380,10.0.0.2,[::1]:26381/markets/2")
        #expect(config.sentinels == [.init(host: "10.0.0.1", port: 26380), .init(host: "10.0.0.2", port: 26379), .init(host: "::1", port: 26381)])
        #expect(config.masterName == "markets" && config.database == 2 && config.password == "topsecret")
        #expect(config.address == "master markets via sentinel 10.0.0.1:26380,10.0.0.2:26379,[::1]:26381")
        #expect(config.redactedURL == "redis+sentinel://:***@10.0.0.1:26380,10.0.0.2:26379,[::1]:26381/markets/2")
        let plain = try RedisConfiguration(url: "redis+sentinel://127.0.0.1:26379/markets")
        #expect(plain.database == 0 && plain.password == nil && plain.sentinels.count == 1)
    }

    @Test(arguments: [
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:26379/",
        "redis+sentinel://127.0.0.1:26379/markets/x",
        "redis+sentinel://127.0.0.1:26379/markets/1/2",
        "redis+sentinel://127.0.0.1:26379,/markets",
        "redis+sentinel://127.0.0.1:0/markets",
    ])
    func rejectsBadSentinelURLs(url: String) {
        #expect(throws: RedisError.self) { _ = try RedisConfiguration(url: url) }
    }

    @Test(arguments: [
        "",
        "127.0.0.1:6379",
        "http://127.0.0.1:6379",
        "rediss://127.0.0.1:6379",
        "redis://",
        "redis://:pw@",
        "redis://host:0",
        "redis://host:65536",
        "redis://host:abc",
        "redis://host/db",
        "redis://host/-1",
        "redis://host?timeout=1",
        "redis://user@host",
        "redis://[::1",
        "redis://:p%zz@host",
    ])
    func rejectsBadURLs(url: String) {
        #expect {
            _ = try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidURL && error.message.contains("invalid Redis URL")
        }
    }

    @Test func badURLErrorDoesNotEchoPassword() {
        do {
            _ = try RedisConfiguration(url: "redis://:hunter2@host:99999")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(!error.message.contains("hunter2"))
        }
    }
}
