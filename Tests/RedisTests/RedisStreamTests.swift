import SharedRedis
import TestSupport
import Testing

@Suite("Stream commands and consumer groups")
struct RedisStreamTests {
    let server = RedisServer.shared

    @Test("a read that skips entries trimmed before the group read them says so, once; trimming what the group already read is no loss")
    func readNoticesTrimmedEntries() async throws {
        let stream = unique("ticks-stream")
        let client = try makeClient(server.url)
        defer { Task { await client.close() } }
        try await client.xgroupCreate(stream, group: "bars", startID: "0", makeStream: true)
        func add(_ count: Int, maxLength: Int) async throws {
            for index in 0..<count { try await client.send(["XADD", stream, "MAXLEN", String(maxLength), "*", "n", String(index)]) }
        }
        func read(_ count: Int) async throws -> RedisClient.GroupReadAfterTrim {
            try await client.xreadgroupNoticingTrimmed(group: "bars", consumer: "c", stream: stream, count: count)
        }
        // Caught up while the stream trims behind the group: nothing lost.
        try await add(50, maxLength: 1_000)
        #expect(try await read(100).skippedTrimmed == false)
        try await add(2_000, maxLength: 100)
        var catchingUp = try await read(5_000)
        #expect(catchingUp.entries.count == 100 && catchingUp.skippedTrimmed, "1,950 of 2,000 were trimmed before the group read them")
        let before = catchingUp.lastDeliveredID
        #expect(before != nil && catchingUp.firstEntryID == catchingUp.entries.first?.id)
        // Later reads skip nothing more, although Redis's counters stay short of the stream's: they must not report it again.
        try await add(50, maxLength: 1_000)
        catchingUp = try await read(10)
        #expect(catchingUp.entries.count == 10 && !catchingUp.skippedTrimmed)
        #expect(try await read(100).skippedTrimmed == false)
    }

    @Test func consumerDiesBeforeAckAndAnotherClaims() async throws {
        let stream = unique("events-stream")
        let group = "backend"
        let producer = try makeClient(server.url)
        try await producer.xgroupCreate(stream, group: group)
        try await producer.xgroupCreate(stream, group: group)  // BUSYGROUP is not an error

        var ids: [String] = []
        for index in 0..<5 {
            ids.append(try await producer.xadd(stream, maxLength: 100_000, fields: [("type", "subscription_created"), ("n", String(index))]))
        }

        // Consumer A reads everything, then dies without XACK.
        let consumerA = try makeClient(server.url)
        let readByA = try await consumerA.xreadgroup(group: group, consumer: "A", streams: [stream], count: 10, block: .milliseconds(100))
        #expect(readByA.map(\.id) == ids)
        #expect(readByA.map(\.stream) == Array(repeating: stream, count: 5))
        #expect(readByA.map { $0.fields["n"] } == ["0", "1", "2", "3", "4"])
        #expect(readByA.first?.fields["type"] == "subscription_created")
        await consumerA.close()

        let pending = try await producer.xpending(stream, group: group)
        #expect(pending == RedisPendingSummary(count: 5, smallestID: ids.first, largestID: ids.last, consumers: ["A": 5]))
        let detail = try await producer.xpendingDetail(stream, group: group, count: 10, consumer: "A")
        #expect(detail.map(\.id) == ids)
        #expect(detail.allSatisfy { $0.consumer == "A" && $0.deliveries == 1 })

        // Nothing new for B: the entries belong to A.
        let consumerB = try makeClient(server.url)
        #expect(try await consumerB.xreadgroup(group: group, consumer: "B", streams: [stream], count: 10, block: nil).isEmpty)

        // Once A's entries have been idle long enough, B claims them all.
        let minIdle = Duration.milliseconds(50)
        _ = try await eventually { () -> Bool? in
            let idle = try await consumerB.xpendingDetail(stream, group: group, count: 10, minIdle: minIdle)
            return idle.count == 5 ? true : nil
        }
        var claimed: [RedisStreamEntry] = []
        var cursor = "0-0"
        repeat {
            let page = try await consumerB.xautoclaim(stream, group: group, consumer: "B", minIdle: minIdle, start: cursor, count: 2)
            claimed += page.entries
            cursor = page.next
        } while cursor != "0-0"
        #expect(claimed.map(\.id) == ids)
        #expect(claimed.map { $0.fields["n"] } == ["0", "1", "2", "3", "4"])

        let afterClaim = try await producer.xpendingDetail(stream, group: group, count: 10)
        #expect(afterClaim.allSatisfy { $0.consumer == "B" && $0.deliveries == 2 })

        #expect(try await consumerB.xack(stream, group: group, ids: claimed.map(\.id)) == 5)
        #expect(try await consumerB.xack(stream, group: group, ids: []) == 0)
        let done = try await producer.xpending(stream, group: group)
        #expect(done.count == 0)
        #expect(done.smallestID == nil)
        #expect(done.consumers.isEmpty)
        await consumerB.close()
        await producer.close()
    }

    @Test func xreadgroupBlockReturnsEntriesAddedWhileBlocked() async throws {
        let stream = unique("blocking")
        let reader = try makeClient(server.url)
        let writer = try makeClient(server.url)
        try await reader.xgroupCreate(stream, group: "g")
        async let read = reader.xreadgroup(group: "g", consumer: "c", streams: [stream], count: 1, block: .seconds(30))
        try await waitUntilBlocked(on: writer, command: "xreadgroup", stream: stream)
        let id = try await writer.xadd(stream, maxLength: nil, fields: [("k", "v")])
        let entries = try await read
        #expect(entries == [RedisStreamEntry(stream: stream, id: id, fields: ["k": "v"])])
        await reader.close()
        await writer.close()
    }

    @Test func xreadgroupBlockTimesOutEmpty() async throws {
        let stream = unique("empty")
        let reader = try makeClient(server.url)
        try await reader.xgroupCreate(stream, group: "g")
        #expect(try await reader.xreadgroup(group: "g", consumer: "c", streams: [stream], count: 5, block: .milliseconds(20)).isEmpty)
        await reader.close()
    }

    @Test func xreadgroupWithoutGroupIsServerError() async throws {
        let reader = try makeClient(server.url)
        do {
            _ = try await reader.xreadgroup(group: "nogroup", consumer: "c", streams: [unique("nostream")], count: 1, block: nil)
            Issue.record("expected NOGROUP")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.serverErrorPrefix == "NOGROUP")
        }
        await reader.close()
    }

    @Test func closeUnblocksAnInFlightBlockingRead() async throws {
        let stream = unique("close-unblocks")
        let reader = try makeClient(server.url)
        let observer = try makeClient(server.url)
        try await reader.xgroupCreate(stream, group: "g")
        let blocked = Task { () -> Result<[RedisStreamEntry], any Error> in
            do {
                return .success(try await reader.xreadgroup(group: "g", consumer: "c", streams: [stream], count: 1, block: .seconds(30)))
            } catch {
                return .failure(error)
            }
        }
        try await waitUntilBlocked(on: observer, command: "xreadgroup", stream: stream)
        await reader.close()
        switch await blocked.value {
        case .success(let entries):
            #expect(entries.isEmpty)
        case .failure(let error):
            #expect((error as? RedisError)?.code == .closed)
        }
        await observer.close()
    }

    @Test func cancellingABlockedReadEndsIt() async throws {
        let stream = unique("cancel-blocked")
        let reader = try makeClient(server.url)
        let observer = try makeClient(server.url)
        try await reader.xgroupCreate(stream, group: "g")
        let blocked = Task {
            try await reader.xreadgroup(group: "g", consumer: "c", streams: [stream], count: 1, block: .seconds(30))
        }
        try await waitUntilBlocked(on: observer, command: "xreadgroup", stream: stream)
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        // The client reconnects for the next command.
        try await reader.ping()
        await reader.close()
        await observer.close()
    }
}

/// Waits until some connection on the server is blocked in `command` (seen in `CLIENT LIST`), so a test acts on a
/// read that is really in progress.
func waitUntilBlocked(on client: RedisClient, command: String, stream: String) async throws {
    _ = try await eventually { () -> Bool? in
        let list = try await client.send(["CLIENT", "LIST"]).string ?? ""
        return list.split(separator: "\n").contains { $0.contains("cmd=\(command)") && $0.contains("flags=b") } ? true : nil
    }
}
