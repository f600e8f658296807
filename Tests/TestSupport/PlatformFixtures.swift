import BrokerWire
import Foundation
import Logging
import Shared
import Synchronization
import SharedRedis

extension Platform {
    /// Instruments from the simulator's real dump, for picking tokens the way a user would.
    public func instruments(exchange: String) async throws -> [KiteInstrument] {
        let reply = try await get(.simulator, "/instruments/\(exchange)")
        return try KiteInstrumentCSV.parse(Array(reply.body))
    }

    /// A few NIFTY options of the nearest expiry, near the money.
    public func niftyOptions(_ count: Int) async throws -> [KiteInstrument] {
        let options = try await instruments(exchange: "NFO").filter { $0.name == "NIFTY" && $0.instrumentType == "CE" }
        guard let nearest = options.compactMap(\.expiry).min(by: { $0.iso < $1.iso }) else { throw PlatformError("no NIFTY options") }
        let chain = options.filter { $0.expiry == nearest }.sorted { $0.strike < $1.strike }
        let middle = chain.count / 2
        return Array(chain[max(0, middle - count / 2)..<min(chain.count, middle - count / 2 + count)])
    }

    /// A Redis client on the platform's server.
    public func redisClient() throws -> RedisClient {
        let client = RedisClient(configuration: try RedisConfiguration(url: redisURL), logger: Logger(label: "integration-test"))
        redisClients.withLock { $0.append(client) }
        return client
    }

    public var channels: EventChannels { EventChannels(prefix: prefix) }

    /// Every subscription event on the durable stream, oldest first.
    public func streamEvents(_ redis: RedisClient) async throws -> [SubscriptionEvent] {
        let reply = try await redis.send(["XRANGE", channels.eventsStream, "-", "+"])
        return try (reply.array ?? []).map { entry in
            guard let pair = entry.array, pair.count == 2, let fields = pair[1].array else { throw PlatformError("bad XRANGE entry") }
            var values: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count {
                if let key = fields[index].string, let value = fields[index + 1].string { values[key] = value }
                index += 2
            }
            guard let json = values["event"] else { throw PlatformError("stream entry without an event field: \(values)") }
            return try SubscriptionEventCodec.decode(json)
        }
    }

    /// What the simulator has subscribed, token → mode, across connections.
    public func simulatorSubscriptions() async throws -> [UInt32: String] {
        let json = try await get(.simulator, "/admin/connections").json()
        var result: [UInt32: String] = [:]
        for connection in json["connections"] as? [[String: Any]] ?? [] {
            guard let id = connection["id"] else { continue }
            let detail = try await get(.simulator, "/admin/connections/\(id)").json()
            for (mode, tokens) in detail["subscriptions"] as? [String: [Int]] ?? [:] {
                for token in tokens { result[UInt32(token)] = mode }
            }
        }
        return result
    }
}
