import AsyncHTTPClient
import BrokerWire
import Foundation
import NIOCore
import NIOHTTP1
import Shared
import SharedPostgres
import Synchronization
import Testing
import TestSupport

/// Two TickerService processes on one database (issue 13, part 2): one holds the broker sessions' lease and streams;
/// the other forwards changes to it; when the owner is killed the other takes the lease, reopens the sessions with
/// every instrument in its mode, and BackendService repairs the minutes the outage touched. The simulator is watched
/// throughout: never more sessions than its per-key limit, never a refused upgrade, never an instrument on two sessions.
@Suite("TickerService: two instances", .serialized)
struct TickerInstancesTests {
    /// What the simulator showed at its busiest while it was watched.
    struct SessionPeaks: Sendable {
        var connections = 0
        /// Instruments subscribed over all sessions, counted once per session (an instrument on two sessions counts twice).
        var subscribed = 0
        var looks = 0
    }

    /// Polls the simulator's `/admin/connections` every 100 ms until cancelled.
    final class SessionWatcher: Sendable {
        let peaks = Mutex(SessionPeaks())

        func watch(_ platform: Platform) async {
            while !Task.isCancelled {
                if let json = try? await platform.get(.simulator, "/admin/connections").json(),
                   let connections = json["connections"] as? [[String: Any]] {
                    let kite = connections.filter { ($0["kind"] as? String ?? "kite") != "dhan" }
                    let subscribed = kite.reduce(0) { $0 + ($1["subscribed_count"] as? Int ?? 0) }
                    peaks.withLock {
                        $0.connections = max($0.connections, kite.count)
                        $0.subscribed = max($0.subscribed, subscribed)
                        $0.looks += 1
                    }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func lease(_ health: [String: Any]) -> (role: String?, instance: String?, owner: String?) {
        let lease = (health["ticker"] as? [String: Any])?["feed_lease"] as? [String: Any]
        return (lease?["role"] as? String, lease?["instance"] as? String, lease?["owner"] as? String)
    }

    static func send(_ method: HTTPMethod, _ url: String, json: String? = nil) async throws -> (status: Int, text: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// `broker_sim_ws_connections_rejected_total`, every reason together.
    static func rejectedUpgrades(_ platform: Platform) async throws -> Int {
        let text = try await platform.get(.simulator, "/metrics").text
        return text.split(separator: "\n").filter { $0.hasPrefix("broker_sim_ws_connections_rejected_total") }.reduce(0) {
            $0 + (Int(Double($1.split(separator: " ").last ?? "") ?? 0))
        }
    }

    @Test("owner killed: the standby takes the lease within 10 s, every instrument back in its mode, changes through either instance reach the broker, the outage's minutes repaired, never two owners")
    func ownerKilledStandbyTakesOver() async throws {
        let environment: [Platform.Component: [String: String]] = [
            .ticker: ["FEED_STALE_SECONDS": "5"],
            .backend: ["REPAIR_DELAY": "2", "REPAIR_INTERVAL": "1", "RECONCILE_ENABLED": "false"],
        ]
        try await Platform.with([.simulator, .ticker, .backend], environment: environment) { platform in
            let standby = try await platform.startReplica(.ticker, name: "b", environment: ["FEED_STALE_SECONDS": "5"])
            try await waitUntil("the first instance owns the broker sessions and the second is its standby") {
                let first = Self.lease(try await platform.get(.ticker, "/health").json())
                let second = Self.lease(try await platform.get(standby, "/health").json())
                return first.role == "owner" && second.role == "standby" && second.owner == first.instance
            }
            let firstID = try #require(Self.lease(try await platform.get(.ticker, "/health").json()).instance)
            let standbyHealth = try await platform.get(standby, "/health")
            #expect(standbyHealth.statusCode == 200, "a standby with a live owner is healthy: \(standbyHealth.text)")

            let watcher = SessionWatcher()
            let watching = Task { await watcher.watch(platform) }
            defer { watching.cancel() }
            let rejectedBefore = try await Self.rejectedUpgrades(platform)

            // Changes through the standby reach the broker: twelve options in three modes, then one released.
            let options = try await platform.niftyOptions(12).map(\.instrumentToken)
            let modes = ["LTP", "QUOTE", "FULL"]
            let list = options.enumerated().map { #"{"instrument_token": \#($1), "requested_mode": "\#(modes[$0 % 3])"}"# }.joined(separator: ",")
            let created = try await Self.send(.POST, standby.url + "/subscriptions", json: #"{"instruments": [\#(list)]}"#)
            #expect(created.status == 201, "subscribe through the standby: \(created.text)")
            var expected = Dictionary(uniqueKeysWithValues: options.enumerated().map { ($1, modes[$0 % 3].lowercased()) })
            try await waitUntil("the owner streams what was asked of the standby, in its modes") { try await platform.simulatorSubscriptions() == expected }
            let released = try await Self.send(.DELETE, standby.url + "/subscriptions/\(options[0])?all=true")
            #expect(released.status == 200, "release through the standby: \(released.text)")
            expected.removeValue(forKey: options[0])
            try await waitUntil("the owner lets go of what was released through the standby") { try await platform.simulatorSubscriptions() == expected }
            let listed = try await Self.send(.GET, standby.url + "/subscriptions")
            #expect(listed.status == 200 && listed.text.contains("\(options[1])"), "the standby lists what the owner holds: \(listed.text.prefix(300))")

            // Ticks flow for a while, then the owner dies.
            try await Task.sleep(for: .seconds(3))
            let killedAt = Date()
            let killed = ContinuousClock.now
            await platform.stop(.ticker, crash: true)
            try await waitUntil("the standby owns the broker sessions and streams every instrument in its mode", timeout: .seconds(30), every: .milliseconds(100)) {
                guard Self.lease(try await platform.get(standby, "/health").json()).role == "owner" else { return false }
                return try await platform.simulatorSubscriptions() == expected
            }
            let takeover = ContinuousClock.now - killed
            print("two tickers: owner killed → standby streaming every instrument in its mode after \(takeover)")
            #expect(takeover < .seconds(10), "takeover took \(takeover)")

            // The killed instance comes back on its port and stays standby; changes through it still reach the broker.
            try await platform.start(.ticker)
            let restarted = Self.lease(try await platform.get(.ticker, "/health").json())
            #expect(restarted.role == "standby" && restarted.instance == firstID && restarted.owner != firstID, "restarted: \(restarted)")
            let again = try await Self.send(.POST, platform.url(.ticker) + "/subscriptions", json: #"{"instrument_token": \#(options[0]), "requested_mode": "QUOTE"}"#)
            #expect(again.status == 201, "subscribe through the restarted standby: \(again.text)")
            expected[options[0]] = "quote"
            try await waitUntil("the new owner streams what was asked of the restarted standby") { try await platform.simulatorSubscriptions() == expected }

            // The minutes the outage touched are repaired from the broker (through the new owner's /history).
            let outageMinute = Int64(killedAt.timeIntervalSince1970) / 60 * 60
            try await waitUntil("the outage's minutes are marked and repaired", timeout: .seconds(240), every: .seconds(1)) {
                guard Date().timeIntervalSince1970 > Double(outageMinute + 62) else { return false }
                let suspect = try await platform.postgres.query("SELECT count(*)::bigint AS n FROM suspect_minutes").first?.decode(Int.self, "n") ?? -1
                let repaired = try await platform.postgres.query(
                    "SELECT count(*)::bigint AS n FROM bars_1m WHERE bucket = $1 AND source = 'repaired' AND instrument_token = ANY($2::bigint[])",
                    [Date(timeIntervalSince1970: TimeInterval(outageMinute)), PostgresArrayLiteral.bigints(expected.keys.map { Int64($0) })]
                ).first?.decode(Int.self, "n") ?? 0
                return suspect == 0 && repaired > 0
            }

            watching.cancel()
            _ = await watching.value
            let peaks = watcher.peaks.withLock { $0 }
            print("two tickers: \(peaks.looks) looks at the simulator; at most \(peaks.connections) sessions, \(peaks.subscribed) subscriptions over them")
            #expect(peaks.looks > 50)
            #expect(peaks.connections <= 3, "more sessions than the key allows: \(peaks.connections)")
            #expect(peaks.subscribed <= options.count, "an instrument was on two sessions at once: \(peaks.subscribed) subscriptions for \(options.count) instruments")
            #expect(try await Self.rejectedUpgrades(platform) == rejectedBefore, "the simulator refused a session upgrade")
        }
    }
}
