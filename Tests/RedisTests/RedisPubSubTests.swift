import SharedRedis
import TestSupport
import Testing

@Suite("Pub/sub subscriptions")
struct RedisPubSubTests {
    @Test func deliversMessagesInOrder() async throws {
        let server = RedisServer.shared
        let publisher = try makeClient(server.url)
        let subscriber = try makeClient(server.url)
        let channel = unique("events")
        let other = unique("other")
        let subscription = try await subscriber.subscribe(to: [channel, other])
        #expect(subscription.channels == [channel, other])

        // SUBSCRIBE is confirmed before subscribe(to:) returns, so nothing published from here on is lost.
        let count = 200
        for index in 0..<count {
            #expect(try await publisher.publish("message-\(index)", to: index % 10 == 0 ? other : channel) == 1)
        }
        var received: [RedisPubSubMessage] = []
        for await message in subscription {
            received.append(message)
            if received.count == count { break }
        }
        #expect(received.map(\.string) == (0..<count).map { "message-\($0)" })
        #expect(received.map(\.channel) == (0..<count).map { $0 % 10 == 0 ? other : channel })

        // Leaving the loop ended the subscription: the server no longer counts a subscriber.
        let subscribers = try await eventually { () -> Int64? in
            let reply = try await publisher.send(["PUBSUB", "NUMSUB", channel])
            let value = reply.array?[1].int
            return value == 0 ? value : nil
        }
        #expect(subscribers == 0)
        await publisher.close()
        await subscriber.close()
    }

    @Test func binaryPayload() async throws {
        let server = RedisServer.shared
        let client = try makeClient(server.url)
        let channel = unique("bin")
        let subscription = try await client.subscribe(to: [channel])
        let payload: [UInt8] = [0, 255, 13, 10, 42, 0]
        #expect(try await client.send(bytes: [Array("PUBLISH".utf8), Array(channel.utf8), payload]).int == 1)
        var iterator = subscription.makeAsyncIterator()
        let message = await iterator.next()
        #expect(message == RedisPubSubMessage(channel: channel, payload: payload))
        await subscription.close()
        #expect(await iterator.next() == nil)
        await client.close()
    }

    @Test func cancellingTheIteratingTaskEndsTheSubscription() async throws {
        let server = RedisServer.shared
        let client = try makeClient(server.url)
        let channel = unique("cancel")
        let subscription = try await client.subscribe(to: [channel])
        let consumer = Task {
            var count = 0
            for await _ in subscription { count += 1 }
            return count
        }
        consumer.cancel()
        _ = await consumer.value  // returns instead of hanging on the blocked read
        let numsub = try await eventually { () -> Int64? in
            let value = try await client.send(["PUBSUB", "NUMSUB", channel]).array?[1].int
            return value == 0 ? value : nil
        }
        #expect(numsub == 0)
        await client.close()
    }

    @Test func survivesServerRestart() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let publisher = try makeClient(server.url)
        let channel = unique("restart")
        let subscription = try await publisher.subscribe(to: [channel])

        #expect(try await publisher.publish("before", to: channel) == 1)
        // A subscription reconnects while it is being iterated, as a consumer loop does, so consume concurrently.
        async let consumed: [String] = {
            var seen: [String] = []
            for await message in subscription {
                seen.append(message.string)
                if message.string == "after" { break }
            }
            return seen
        }()
        _ = try await eventually { () -> Int? in
            (try await publisher.send(["PUBSUB", "NUMSUB", channel]).array?[1].int).flatMap { $0 == 1 ? 1 : nil }
        }

        try await server.restart()

        // Publish until the server reports the re-subscribed subscriber, then the message that must arrive.
        _ = try await eventually { () -> Int? in
            let receivers = try? await publisher.publish("probe", to: channel)
            return receivers == 1 ? 1 : nil
        }
        #expect(try await publisher.publish("after", to: channel) == 1)
        let seen = await consumed
        #expect(seen.first == "before")
        #expect(seen.last == "after")
        #expect(seen.dropFirst().dropLast().allSatisfy { $0 == "probe" })
        await subscription.close()
        await publisher.close()
    }

    @Test func subscribeToUnreachableRedisFailsTyped() async throws {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(Ports.freeLoopbackPort())")
        configuration.reconnectAttempts = 1
        let client = RedisClient(configuration: configuration, logger: testLogger)
        do {
            _ = try await client.subscribe(to: ["x"])
            Issue.record("expected connectionFailed")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed)
            #expect(error.message.contains("connection refused"))
        }
        await client.close()
    }
}
