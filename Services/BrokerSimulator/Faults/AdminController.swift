import Foundation
import Hummingbird
import NIOCore

/// `/admin/...`: what tests use to look inside the simulator and to break it on purpose. Documented in docs/simulator.md.
struct AdminController<Context: RequestContext>: Sendable {
    let registry: ConnectionRegistry
    let faults: FaultInjector
    var historicalRequests = HistoricalRequestCounter()

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("connections", use: listConnections)
        routes.get("connections/{id}", use: connectionDetail)
        routes.get("faults", use: faultState)
        routes.get("historical", use: historicalCounts)
        routes.post("faults/drop", use: drop)
        routes.post("faults/stall", use: stall)
        routes.post("faults/refuse", use: refuse)
        routes.post("faults/historical", use: historical)
        routes.post("faults/reset", use: reset)
        return routes
    }

    struct ConnectionList: ResponseEncodable {
        var count: Int
        var connections: [ConnectionSummary]
    }

    struct ConnectionDetail: ResponseEncodable {
        var connection: ConnectionSummary
        var subscriptions: [String: [UInt32]]
    }

    struct AffectedConnections: ResponseEncodable {
        var action: String
        var connectionIDs: [Int]
        var seconds: Double?

        enum CodingKeys: String, CodingKey {
            case action, seconds
            case connectionIDs = "connection_ids"
        }
    }

    struct FaultState: ResponseEncodable {
        var refusingConnections: Bool
        var refuseSecondsLeft: Double?
        var historicalFailuresPending: Int
        var stalledConnectionIDs: [Int]

        enum CodingKeys: String, CodingKey {
            case refusingConnections = "refusing_connections"
            case refuseSecondsLeft = "refuse_seconds_left"
            case historicalFailuresPending = "historical_failures_pending"
            case stalledConnectionIDs = "stalled_connection_ids"
        }
    }

    /// `GET /admin/historical`: historical-candle requests served, in all, per instrument token (keys are tokens) and per
    /// broker API (`kite`, `dhan`; both always present).
    struct HistoricalCounts: ResponseEncodable {
        var total: Int
        var byToken: [String: Int]
        var byBroker: [String: Int]

        enum CodingKeys: String, CodingKey {
            case total
            case byToken = "by_token"
            case byBroker = "by_broker"
        }
    }

    /// Body (JSON) or query parameters of a fault request; query parameters win.
    struct FaultRequest: Decodable {
        var connectionID: Int?
        var apiKey: String?
        var all: Bool?
        var seconds: Double?
        var count: Int?
        var feed: FeedKind?

        enum CodingKeys: String, CodingKey {
            case all, seconds, count, feed
            case connectionID = "connection_id"
            case apiKey = "api_key"
        }

        init(connectionID: Int? = nil, apiKey: String? = nil, all: Bool? = nil, seconds: Double? = nil, count: Int? = nil, feed: FeedKind? = nil) {
            self.connectionID = connectionID
            self.apiKey = apiKey
            self.all = all
            self.seconds = seconds
            self.count = count
            self.feed = feed
        }
    }

    @Sendable func listConnections(_ request: Request, context: Context) async throws -> ConnectionList {
        let feed = request.uri.queryParameters.get("feed").flatMap(FeedKind.init(rawValue:))
        let summaries = registry.all(kind: feed).map { $0.summary() }
        return ConnectionList(count: summaries.count, connections: summaries)
    }

    @Sendable func connectionDetail(_ request: Request, context: Context) async throws -> ConnectionDetail {
        let id = try context.parameters.require("id", as: Int.self)
        guard let connection = registry.connection(id: id) else {
            throw HTTPError(.notFound, message: "no open connection with id \(id)")
        }
        return ConnectionDetail(connection: connection.summary(), subscriptions: connection.subscriptions())
    }

    @Sendable func faultState(_ request: Request, context: Context) async throws -> FaultState {
        FaultState(
            refusingConnections: faults.isRefusingConnections,
            refuseSecondsLeft: faults.refusalRemaining.map(Self.seconds),
            historicalFailuresPending: faults.historicalFailuresPending,
            stalledConnectionIDs: registry.all().filter(\.isStalled).map(\.id)
        )
    }

    @Sendable func historicalCounts(_ request: Request, context: Context) async throws -> HistoricalCounts {
        let snapshot = historicalRequests.snapshot
        return HistoricalCounts(
            total: snapshot.total, byToken: Dictionary(uniqueKeysWithValues: snapshot.byToken.map { (String($0.key), $0.value) }),
            byBroker: Dictionary(uniqueKeysWithValues: HistoricalRequestCounter.API.allCases.map { ($0.rawValue, snapshot.byBroker[$0] ?? 0) })
        )
    }

    @Sendable func drop(_ request: Request, context: Context) async throws -> AffectedConnections {
        let body = try await faultRequest(request, context: context)
        let targets = try selectConnections(body)
        for connection in targets { connection.drop() }
        return AffectedConnections(action: "drop", connectionIDs: targets.map(\.id))
    }

    @Sendable func stall(_ request: Request, context: Context) async throws -> AffectedConnections {
        let body = try await faultRequest(request, context: context)
        if let seconds = body.seconds, !(seconds > 0 && seconds <= 86_400) {
            throw HTTPError(.badRequest, message: "seconds must be within (0, 86400]")
        }
        let targets = try selectConnections(body)
        let duration = body.seconds.map { Duration.milliseconds(Int64($0 * 1000)) }
        for connection in targets { connection.stall(for: duration) }
        return AffectedConnections(action: "stall", connectionIDs: targets.map(\.id), seconds: body.seconds)
    }

    @Sendable func refuse(_ request: Request, context: Context) async throws -> FaultState {
        let body = try await faultRequest(request, context: context)
        guard let seconds = body.seconds, seconds > 0, seconds <= 86_400 else {
            throw HTTPError(.badRequest, message: "seconds is required and must be within (0, 86400]")
        }
        faults.refuseConnections(for: .milliseconds(Int64(seconds * 1000)))
        return try await faultState(request, context: context)
    }

    @Sendable func historical(_ request: Request, context: Context) async throws -> FaultState {
        let body = try await faultRequest(request, context: context)
        guard let count = body.count, count > 0, count <= 1_000_000 else {
            throw HTTPError(.badRequest, message: "count is required and must be within 1...1000000")
        }
        faults.failHistoricalCalls(count: count)
        return try await faultState(request, context: context)
    }

    @Sendable func reset(_ request: Request, context: Context) async throws -> FaultState {
        faults.reset()
        for connection in registry.all() { connection.resume() }
        return try await faultState(request, context: context)
    }

    // MARK: Helpers

    private func faultRequest(_ request: Request, context: Context) async throws -> FaultRequest {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        var body = FaultRequest()
        if buffer.readableBytes > 0 {
            do {
                body = try JSONDecoder().decode(FaultRequest.self, from: Data(buffer.readableBytesView))
            } catch {
                throw HTTPError(.badRequest, message: "body must be a JSON object like {\"connection_id\": 1, \"seconds\": 5}: \(error)")
            }
        }
        let query = request.uri.queryParameters
        if let value = query.get("connection_id") {
            guard let id = Int(value) else { throw HTTPError(.badRequest, message: "connection_id must be an integer") }
            body.connectionID = id
        }
        if let value = query.get("api_key") { body.apiKey = value }
        if let value = query.get("all") { body.all = value == "true" || value == "1" }
        if let value = query.get("seconds") {
            guard let seconds = Double(value) else { throw HTTPError(.badRequest, message: "seconds must be a number") }
            body.seconds = seconds
        }
        if let value = query.get("count") {
            guard let count = Int(value) else { throw HTTPError(.badRequest, message: "count must be an integer") }
            body.count = count
        }
        if let value = query.get("feed") {
            guard let feed = FeedKind(rawValue: value) else { throw HTTPError(.badRequest, message: "feed must be kite or dhan") }
            body.feed = feed
        }
        return body
    }

    private func selectConnections(_ body: FaultRequest) throws -> [TickerConnection] {
        let open = registry.all(kind: body.feed)
        if let id = body.connectionID {
            guard let connection = open.first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, message: "no open connection with id \(id)")
            }
            return [connection]
        }
        if let apiKey = body.apiKey {
            return open.filter { $0.key == apiKey }
        }
        if body.all == true {
            return open
        }
        throw HTTPError(.badRequest, message: "say which connections: connection_id, api_key or all=true")
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
