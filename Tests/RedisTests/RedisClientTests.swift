import SharedRedis
import TestSupport
import Testing

@Suite("RedisClient commands against a real redis-server")
struct RedisClientTests {
    let server = RedisServer.shared

    @Test func pingAndStrings() async throws {
        let client = try makeClient(server.url)
        try await client.connect()
        try await client.ping()
        let key = unique("str")
        #expect(try await client.send(["SET", key, "héllo"]) == .simpleString("OK"))
        #expect(try await client.send(["GET", key]).string == "héllo")
        #expect(try await client.send(["GET", unique("missing")]) == .null)
        #expect(try await client.send(["INCRBY", unique("n"), "41"]).int == 41)
        let list = unique("list")
        try await client.send(["RPUSH", list, "a", "b", ""])
        #expect(try await client.send(["LRANGE", list, "0", "-1"]) == .array([.bulkString(Array("a".utf8)), .bulkString(Array("b".utf8)), .bulkString([])]))
    }

    @Test func binarySafeArguments() async throws {
        let client = try makeClient(server.url)
        let key = Array(unique("bin").utf8) + [0, 0xFF, 13, 10]
        let value: [UInt8] = [0, 1, 2, 13, 10, 0xFF, 0xFE, 0, 36, 42] + Array(repeating: 0xAB, count: 100_000)
        #expect(try await client.send(bytes: [Array("SET".utf8), key, value]) == .simpleString("OK"))
        let reply = try await client.send(bytes: [Array("GET".utf8), key])
        #expect(reply == .bulkString(value))
        #expect(try await client.send(bytes: [Array("STRLEN".utf8), key]).int == Int64(value.count))
    }

    @Test func pipelineReturnsRepliesInOrderWithErrorsInline() async throws {
        let client = try makeClient(server.url)
        let counter = unique("counter")
        let text = unique("text")
        var commands: [[String]] = [["SET", text, "not a number"]]
        for _ in 0..<500 { commands.append(["INCR", counter]) }
        commands.append(["INCR", text])  // fails on the server, must not fail the pipeline
        commands.append(["GET", counter])
        let replies = try await client.pipeline(commands)
        #expect(replies.count == commands.count)
        #expect(replies[0] == .simpleString("OK"))
        for index in 1...500 { #expect(replies[index] == .integer(Int64(index))) }
        guard case .error(let message) = replies[501] else {
            Issue.record("expected an error reply, got \(replies[501])")
            return
        }
        #expect(message.hasPrefix("ERR"))
        #expect(replies[502].string == "500")
        // The connection is still usable after an inline error.
        try await client.ping()
        #expect(try await client.pipeline([]) == [])
    }

    @Test func serverErrorReplyIsThrownTyped() async throws {
        let client = try makeClient(server.url)
        do {
            try await client.send(["NOSUCHCOMMAND", "x"])
            Issue.record("expected a server error")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.serverErrorPrefix == "ERR")
        }
        let key = unique("wrongtype")
        try await client.send(["SET", key, "v"])
        do {
            try await client.send(["LPUSH", key, "x"])
            Issue.record("expected WRONGTYPE")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.serverErrorPrefix == "WRONGTYPE")
        }
        try await client.ping()  // still usable
    }

    @Test func unreachableRedisNamesTheAddress() async throws {
        let port = Ports.freeLoopbackPort()  // nothing listens there
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)")
        configuration.reconnectAttempts = 2
        let client = RedisClient(configuration: configuration, logger: testLogger)
        do {
            try await client.connect()
            Issue.record("expected connectionFailed")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed)
            #expect(error.message == "redis at 127.0.0.1:\(port): connection refused")
            #expect(error.description == error.message)
        }
        // A command fails the same way instead of hanging or crashing.
        await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
    }

    @Test func unresolvableHostIsConnectionFailed() async throws {
        var configuration = try RedisConfiguration(url: "redis://no-such-host.invalid:6379", connectTimeout: .milliseconds(500))
        configuration.reconnectAttempts = 1
        let client = RedisClient(configuration: configuration, logger: testLogger)
        do {
            try await client.ping()
            Issue.record("expected connectionFailed")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed)
            #expect(error.message.hasPrefix("redis at no-such-host.invalid:6379: "))
        }
    }

    @Test func publishAndXaddHelpers() async throws {
        let client = try makeClient(server.url)
        #expect(try await client.publish("nobody listens", to: unique("chan")) == 0)
        let stream = unique("stream")
        for index in 0..<50 {
            let id = try await client.xadd(stream, maxLength: 10, fields: [("n", String(index)), ("kind", "tick")])
            #expect(id.contains("-"))
        }
        // MAXLEN ~ trims in whole nodes, so the length is capped approximately; it never drops below 10.
        let length = try await client.send(["XLEN", stream]).int ?? 0
        #expect(length >= 10 && length <= 50)
        #expect(RedisClient.xaddArguments("s", maxLength: 5, fields: [("a", "1")]) == ["XADD", "s", "MAXLEN", "~", "5", "*", "a", "1"])
        #expect(RedisClient.xaddArguments("s", maxLength: nil, fields: [("a", "1")]) == ["XADD", "s", "*", "a", "1"])
    }

    @Test func closeIsIdempotentAndLaterCallsFailTyped() async throws {
        let client = try makeClient(server.url)
        try await client.ping()
        await client.close()
        await client.close()
        do {
            try await client.ping()
            Issue.record("expected closed")
        } catch let error as RedisError {
            #expect(error.code == .closed)
        }
    }

    @Test func concurrentCallersAreSerialised() async throws {
        let client = try makeClient(server.url)
        let key = unique("concurrent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    for _ in 0..<25 { try await client.send(["INCR", key]) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send(["GET", key]).string == "500")
    }
}
