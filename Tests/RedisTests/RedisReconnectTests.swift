import SharedRedis
import TestSupport
import Testing

@Suite("Reconnect after the server goes away")
struct RedisReconnectTests {
    @Test func commandsSucceedAfterServerRestart() async throws {
        let server = try await RedisServer.start(appendOnly: true)
        defer { server.stop() }
        let client = try makeClient(server.url)
        let key = unique("survives")
        try await client.send(["SET", key, "1"])

        try await server.restart()

        // The idle connection was closed by the restart; the next command reconnects before sending.
        #expect(try await client.send(["GET", key]).string == "1")
        #expect(try await client.send(["INCR", key]).int == 2)
        await client.close()
    }

    @Test func lostServerGivesTypedErrorsThenRecovers() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectAttempts = 2
        let client = RedisClient(configuration: configuration, logger: testLogger)
        try await client.ping()

        server.kill()
        do {
            try await client.ping()
            Issue.record("expected an error while Redis is down")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed || error.code == .io)
            #expect(error.message.contains("127.0.0.1:\(server.port)"))
        }

        try await server.restart()
        try await client.ping()
        await client.close()
    }

    @Test func restartDuringBlockingReadFailsThatCallOnly() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let stream = unique("restart-blocked")
        let reader = try makeClient(server.url)
        let observer = try makeClient(server.url)
        try await reader.xgroupCreate(stream, group: "g")
        let blocked = Task {
            try await reader.xreadgroup(group: "g", consumer: "c", streams: [stream], count: 1, block: .seconds(30))
        }
        try await waitUntilBlocked(on: observer, command: "xreadgroup", stream: stream)
        try await server.restart()
        do {
            _ = try await blocked.value
            Issue.record("expected the blocked read to fail when the server went away")
        } catch let error as RedisError {
            #expect(error.code == .io)
        }
        // No AOF: the group is gone after the restart, the client itself works again.
        try await reader.xgroupCreate(stream, group: "g")
        #expect(try await reader.xreadgroup(group: "g", consumer: "c", streams: [stream], count: 1, block: nil).isEmpty)
        await reader.close()
        await observer.close()
    }

    @Test func authAndDatabaseFromURL() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let admin = try makeClient(server.url)
        try await admin.send(["CONFIG", "SET", "requirepass", "p@ss word"])
        await admin.close()

        let authed = try makeClient("redis://:p%40ss%20word@127.0.0.1:\(server.port)/3")
        let key = unique("db3")
        try await authed.send(["SET", key, "x"])
        #expect(try await authed.send(["EXISTS", key]).int == 1)

        let db0 = try makeClient("redis://default:p%40ss%20word@127.0.0.1:\(server.port)")
        #expect(try await db0.send(["EXISTS", key]).int == 0)

        let wrong = try makeClient("redis://:nope@127.0.0.1:\(server.port)")
        do {
            try await wrong.ping()
            Issue.record("expected authenticationFailed")
        } catch let error as RedisError {
            #expect(error.code == .authenticationFailed)
            #expect(!error.message.contains("nope"))
        }
        await authed.close()
        await db0.close()
        await wrong.close()
    }
}

@Suite("Timeouts")
struct RedisTimeoutTests {
    @Test func hungServerGivesTimeoutThenRecovers() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let client = try makeClient(server.url, commandTimeout: .milliseconds(200))
        try await client.ping()

        server.suspend()
        do {
            try await client.ping()
            Issue.record("expected a timeout from a hung server")
        } catch let error as RedisError {
            #expect(error.code == .timeout)
            #expect(error.message.contains("127.0.0.1:\(server.port)"))
        }
        server.resume()
        try await client.ping()  // the timed-out connection was dropped; a new one is made
        await client.close()
    }

    @Test func slowServerSideCommandTimesOut() async throws {
        let server = RedisServer.shared
        let client = try makeClient(server.url, commandTimeout: .milliseconds(100))
        do {
            try await client.send(["BLPOP", unique("never"), "5"])
            Issue.record("expected a timeout")
        } catch let error as RedisError {
            #expect(error.code == .timeout)
        }
        try await client.ping()
        await client.close()
    }

    @Test func closingTheClientEndsItsSubscriptions() async throws {
        let server = RedisServer.shared
        let client = try makeClient(server.url)
        let subscription = try await client.subscribe(to: [unique("closing")])
        async let ended: Int = {
            var count = 0
            for await _ in subscription { count += 1 }
            return count
        }()
        await client.close()
        #expect(await ended == 0)
    }
}

@Suite("Connection dropped by the server")
struct RedisDroppedConnectionTests {
    @Test func serverClosingMidWriteIsAnErrorNotSIGPIPE() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let client = try makeClient(server.url)
        // Redis rejects a bulk string longer than proto-max-bulk-len as soon as it reads the length and closes the
        // connection while the client is still writing the value (ECONNRESET or EPIPE; SIGPIPE is blocked on the
        // connection thread so the latter cannot kill the process). The caller gets a typed error, the client recovers.
        try await client.send(["CONFIG", "SET", "proto-max-bulk-len", "1mb"])
        let big = [UInt8](repeating: 0x61, count: 64 << 20)
        do {
            try await client.send(bytes: [Array("SET".utf8), Array(unique("big").utf8), big])
            Issue.record("expected the server to drop the connection")
        } catch let error as RedisError {
            #expect(error.code == .io || error.code == .protocolError || error.code == .server)
        }
        try await client.ping()
        await client.close()
    }
}
