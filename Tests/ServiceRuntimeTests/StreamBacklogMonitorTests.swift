import Foundation
import Logging
import ServiceRuntime
import SharedRedis
import Testing
import TestSupport

/// The numbers behind the `StreamBacklogGrowing` alert, read from a real redis-server.
@Suite("Stream backlog monitor")
struct StreamBacklogMonitorTests {
    @Test("lag counts undelivered entries, pending the delivered and unacknowledged; unknown streams and groups are left out")
    func backlog() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: RedisServer.shared.url), logger: Logger(label: "tests.redis"))
        defer { Task { await redis.close() } }
        let stream = "backlog:\(UUID().uuidString.prefix(8))"
        try await redis.xgroupCreate(stream, group: "workers", startID: "0")
        for index in 0..<10 { _ = try await redis.xadd(stream, maxLength: nil, fields: [("n", String(index))]) }
        // Four delivered to one consumer, one of them acknowledged.
        let read = try await redis.xreadgroup(group: "workers", consumer: "w1", streams: [stream], count: 4, block: nil)
        #expect(read.count == 4)
        _ = try await redis.xack(stream, group: "workers", ids: [read[0].id])

        let monitor = StreamBacklogMonitor(
            redis: redis,
            groups: [.init(stream: stream, group: "workers"), .init(stream: stream, group: "absent"), .init(stream: stream + ":none", group: "workers")],
            logger: Logger(label: "tests.backlog")
        )
        let backlogs = await monitor.sample()
        #expect(backlogs == [.init(watched: .init(stream: stream, group: "workers"), lag: 6, pending: 3, consumers: 1)])
    }
}
