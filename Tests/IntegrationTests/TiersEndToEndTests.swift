import Foundation
import Shared
import Testing
import TestSupport

/// Seed 004's two-tier system through the real processes: the simulator, TickerService, BackendService, Redis and
/// PostgreSQL. What the broker streams is read at the simulator (`/admin/connections`), what a user sees through
/// BackendService's `/api/v2`.
@Suite("Two-tier system end to end", .serialized)
struct TiersEndToEndTests {
    static let backendEnvironment = [
        "TIER_B_ENABLED": "true",
        "TIER_B_INDEX_OPTIONS": "NIFTY:1:5",
        "TIER_B_MCX_FUTURES": "GOLD",
        "TIER_B_MCX_OPTIONS": "CRUDEOIL:1:3",
        "TIER_B_PRICE_TIMEOUT": "60",
        "SUBSCRIPTION_CAP": "150",
        "WATCHLIST_CHAIN_STRIKES": "25",
        "EOD_ENABLED": "false",
        "RECONCILE_ENABLED": "false",
    ]

    static func streamed(_ platform: Platform) async throws -> Set<Int64> {
        Set(try await platform.simulatorSubscriptions().keys.map(Int64.init))
    }

    static func tierTokens(_ platform: Platform, tier: String) async throws -> Set<Int64> {
        let list = try await platform.get(.backend, "/api/v2/subscriptions?tier=\(tier)&limit=25000").json()
        return Set((list["subscriptions"] as? [[String: Any]] ?? []).compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
    }

    @Test("Tier B at startup; search → watchlist add (50 options + underlying on the broker) → chain with live quotes; two users share; the cap evicts LRU Tier A only; EOD keeps Tier B; a restart does not grow Tier B")
    func userFlow() async throws {
        try await Platform.with(environment: [.backend: Self.backendEnvironment]) { platform in
            // Tier B: NIFTY 50 and CRUDEOIL's nearest future (the underlyings), GOLD's futures, 5 NIFTY strikes and 3
            // CRUDEOIL strikes of the nearest expiry, CE and PE.
            try await waitUntil("Tier B is loaded", timeout: .seconds(120)) {
                let status = try await platform.get(.backend, "/api/v2/subscriptions/status").json()
                return (status["tier_b"] as? [String: Any])?["state"] as? String == "loaded"
            }
            let status = try await platform.get(.backend, "/api/v2/subscriptions/status").json()
            let tierB = try await Self.tierTokens(platform, tier: "B")
            let gold = try await platform.instruments(exchange: "MCX").filter { $0.name == "GOLD" && $0.instrumentType == "FUT" }
            #expect(tierB.count == 2 + gold.count + 10 + 6, "\(status)")
            #expect(tierB.contains(256_265))
            #expect(((status["tier_b"] as? [String: Any])?["skipped"] as? [Any])?.isEmpty == true, "\(status)")
            #expect(status["tier_b_count"] as? Int == tierB.count && status["cap"] as? Int == 150)
            #expect((status["connections"] as? [[String: Any]])?.isEmpty == false)
            try await waitUntil("the broker streams Tier B") { try await Self.streamed(platform).isSuperset(of: tierB) }

            // A user searches, adds RELIANCE, and sees its chain with live quotes.
            let search = try await platform.get(.backend, "/api/v2/instruments/search?q=RELIANCE&limit=5").json()
            let first = try #require((search["results"] as? [[String: Any]])?.first)
            #expect(first["tradingsymbol"] as? String == "RELIANCE" && first["instrument_type"] as? String == "EQ" && first["expiry"] is NSNull, "\(first)")
            let add = try await platform.post(.backend, "/api/v2/watchlist/add", json: #"{"user_id":"u1","symbol":"RELIANCE"}"#)
            #expect(add.statusCode == 201, "\(add.text)")
            let reliance = Set(try #require(try add.json()["instruments"] as? [NSNumber]).map(\.int64Value))
            #expect(reliance.count == 51 && reliance.contains(738_561))
            try await waitUntil("the broker streams RELIANCE's 50 options and RELIANCE") { try await Self.streamed(platform).isSuperset(of: reliance) }
            try await waitUntil("the chain shows live quotes for every option", timeout: .seconds(60)) {
                let chain = try await platform.get(.backend, "/api/v2/option-chain/RELIANCE?strikes=25").json()
                let strikes = chain["strikes"] as? [[String: Any]] ?? []
                let sides = strikes.flatMap { [$0["ce"], $0["pe"]] }.compactMap { $0 as? [String: Any] }
                return strikes.count == 25 && sides.count == 50 && sides.allSatisfy { ($0["quote"] as? [String: Any])?["ltp"] is NSNumber }
            }

            // The chain's greeks come from the live prices: at the money the call's and the put's implied volatility
            // agree (the simulator prices both strikes from one smile volatility), and the deltas straddle ±0.5.
            let chain = try await platform.get(.backend, "/api/v2/option-chain/RELIANCE?strikes=25").json()
            let atmRow = try #require((chain["strikes"] as? [[String: Any]])?.first { $0["atm"] as? Bool == true }, "\(chain)")
            let ce = try #require(atmRow["ce"] as? [String: Any])
            let pe = try #require(atmRow["pe"] as? [String: Any])
            let ceIV = try #require(ce["iv"] as? Double, "\(ce)")
            let peIV = try #require(pe["iv"] as? Double, "\(pe)")
            #expect((0.1...0.8).contains(ceIV) && abs(ceIV - peIV) < 0.01, "call \(ceIV), put \(peIV)")
            let ceDelta = try #require(ce["delta"] as? Double)
            let peDelta = try #require(pe["delta"] as? Double)
            #expect((0.3...0.7).contains(ceDelta) && (-0.7 ... -0.3).contains(peDelta) && abs(ceDelta - peDelta - 1) < 0.02, "\(ceDelta) \(peDelta)")
            #expect(chain["model"] as? String == "black_76" || chain["model"] as? String == "black_scholes")
            #expect((chain["underlying"] as? [String: Any])?["source"] as? String == "tick")
            // A caller's price picks the strikes; the expiries endpoint gives the strike step the chain used.
            let expiries = try await platform.get(.backend, "/api/v2/instruments/RELIANCE/expiries").json()
            #expect((expiries["expiries"] as? [String])?.first == chain["expiry"] as? String)
            let nearest = try #require((expiries["details"] as? [[String: Any]])?.first)
            let step = try #require(nearest["strike_step"] as? Double)
            #expect(chain["strike_step"] as? Double == step && nearest["expiry"] as? String == chain["expiry"] as? String)
            let atmStrike = try #require(chain["atm_strike"] as? Double)
            let priced = try await platform.get(.backend, "/api/v2/option-chain/RELIANCE?strikes=5&underlying_ltp=\(atmStrike + 2 * step + 0.2 * step)").json()
            #expect(priced["atm_strike"] as? Double == atmStrike + 2 * step, "\(priced)")
            #expect((priced["strikes"] as? [Any])?.count == 5 && (priced["underlying"] as? [String: Any])?["source"] as? String == "caller")
            // atm_cache records where the held chain is centred.
            let centre = try await platform.postgres.query("SELECT atm_strike FROM atm_cache WHERE symbol = 'RELIANCE'", [])
            let entry = try #require((try await platform.get(.backend, "/api/v2/watchlist?user_id=u1").json()["entries"] as? [[String: Any]])?.first)
            #expect(try centre.first?.decode(Double.self, "atm_strike") == entry["atm_strike"] as? Double, "\(entry)")
            // The ATM engine alone: the same centre, and a chain centred 3 strikes away should be re-centred.
            let atm = try await platform.get(.backend, "/api/v2/atm/RELIANCE?strikes=5&underlying_ltp=\(atmStrike)&centre=\(atmStrike - 3 * step)").json()
            #expect(atm["atm_strike"] as? Double == atmStrike && atm["should_recalculate"] as? Bool == true && (atm["strikes"] as? [Double])?.count == 5, "\(atm)")
            let byToken = try await platform.get(.backend, "/api/v2/instruments/token/738561").json()
            #expect(byToken["tradingsymbol"] as? String == "RELIANCE" && byToken["exchange"] as? String == "NSE")
            let options = try await platform.get(.backend, "/api/v2/instruments/search?q=RELIANCE&instrument_type=CE&exchange=nfo&limit=5").json()
            #expect((options["results"] as? [[String: Any]])?.allSatisfy { $0["instrument_type"] as? String == "CE" && $0["exchange"] as? String == "NFO" } == true)
            #expect((options["count"] as? Int) == 5)
            let unknown = try await platform.get(.backend, "/api/v2/option-chain/NOSUCHTHING")
            #expect(unknown.statusCode == 404 && unknown.text.contains("unknown_symbol"))

            // A second user holds the same chain and INFY; the first letting go drops nothing the second holds.
            #expect(try await platform.post(.backend, "/api/v2/watchlist/add", json: #"{"user_id":"u2","symbol":"RELIANCE"}"#).statusCode == 201)
            #expect(try await platform.post(.backend, "/api/v2/watchlist/add", json: #"{"user_id":"u2","instrument_token":408065}"#).statusCode == 201)
            let removed = try await platform.post(.backend, "/api/v2/watchlist/remove", json: #"{"user_id":"u1","symbol":"RELIANCE"}"#)
            #expect(removed.statusCode == 200, "\(removed.text)")
            let u1 = try await platform.get(.backend, "/api/v2/watchlist?user_id=u1").json()
            #expect(u1["count"] as? Int == 0)
            let u2 = try await platform.get(.backend, "/api/v2/watchlist?user_id=u2").json()
            #expect(u2["count"] as? Int == 2 && u2["instruments"] as? Int == 52, "\(u2)")
            #expect(try await Self.streamed(platform).isSuperset(of: reliance.union([408_065])))
            let missing = try await platform.post(.backend, "/api/v2/watchlist/remove", json: #"{"user_id":"u1","symbol":"RELIANCE"}"#)
            #expect(missing.statusCode == 404 && missing.text.contains("not_in_watchlist"))

            // The cap (150): u3's BANKNIFTY chain and u4's FINNIFTY chain do not both fit; the least recently used Tier A
            // instruments go (u2's, viewed least recently), Tier B never.
            _ = try await platform.get(.backend, "/api/v2/watchlist?user_id=u2")  // u2's instruments used now
            #expect(try await platform.post(.backend, "/api/v2/watchlist/add", json: #"{"user_id":"u3","symbol":"BANKNIFTY"}"#).statusCode == 201)
            let crowded = try await platform.post(.backend, "/api/v2/watchlist/add", json: #"{"user_id":"u4","symbol":"FINNIFTY"}"#)
            #expect(crowded.statusCode == 201, "\(crowded.text)")
            let evicted = Set(try #require(try crowded.json()["evicted"] as? [NSNumber]).map(\.int64Value))
            #expect(!evicted.isEmpty && evicted.isDisjoint(with: tierB))
            let afterCap = try await platform.get(.backend, "/api/v2/subscriptions/status").json()
            #expect(afterCap["total"] as? Int ?? 999 <= 150 && afterCap["tier_b_count"] as? Int == tierB.count, "\(afterCap)")
            let told = Set((try await platform.get(.backend, "/api/v2/watchlist?user_id=u2").json()["evictions"] as? [[String: Any]] ?? [])
                .compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
            let u3Told = Set((try await platform.get(.backend, "/api/v2/watchlist?user_id=u3").json()["evictions"] as? [[String: Any]] ?? [])
                .compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
            #expect(told.union(u3Told) == evicted)
            let log = try await platform.get(.backend, "/api/v2/subscriptions/log?limit=1000").json()
            #expect((log["entries"] as? [[String: Any]] ?? []).contains { $0["action"] as? String == "evict" })

            // End of day: Tier A leaves the broker, Tier B stays, watchlists are empty.
            let eod = try await platform.post(.backend, "/api/v2/admin/eod-cleanup", json: "{}")
            let ran = try eod.json()["ran"] as? Bool
            #expect(eod.statusCode == 200 && ran == true, "\(eod.text)")
            try await waitUntil("only Tier B streams after the cleanup") { try await Self.streamed(platform) == tierB }
            #expect(try await platform.get(.backend, "/api/v2/watchlist?user_id=u2").json()["count"] as? Int == 0)

            // The cleanup left the connections uneven; an admin rebalance evens them, and each move is audited.
            let rebalance = try await platform.post(.backend, "/api/v2/admin/rebalance", json: "{}")
            #expect(rebalance.statusCode == 200, "\(rebalance.text)")
            let rebalanced = try rebalance.json()
            #expect((rebalanced["spread_after"] as? Double ?? 1) <= 0.01, "\(rebalanced)")
            if let moved = rebalanced["moved"] as? Int, moved > 0 {
                let audit = try await platform.get(.backend, "/api/v2/subscriptions/log?limit=1000").json()
                #expect((audit["entries"] as? [[String: Any]] ?? []).count { $0["action"] as? String == "rebalance" } == moved)
                // TickerService's list shows each moved instrument on its new connection.
                let listed = try await platform.get(.ticker, "/subscriptions").json()["subscriptions"] as? [[String: Any]] ?? []
                let placed = Dictionary(
                    listed.compactMap { row -> (Int, String)? in
                        guard let token = row["instrument_token"] as? Int, let account = row["account_id"] as? String, let connection = row["connection_id"] as? Int
                        else { return nil }
                        return (token, "\(account)#\(connection)")
                    },
                    uniquingKeysWith: { first, _ in first }
                )
                for move in rebalanced["moves"] as? [[String: Any]] ?? [] {
                    let token = move["instrument_token"] as? Int ?? -1
                    let to = move["to"] as? [String: Any] ?? [:]
                    #expect(placed[token] == "\(to["account_id"] as? String ?? "?")#\(to["connection_id"] as? Int ?? -1)", "instrument \(token)")
                }
            }
            try await waitUntil("the broker still streams exactly Tier B") { try await Self.streamed(platform) == tierB }

            // A restart preloads Tier B again without growing it.
            await platform.stop(.backend)
            try await platform.start(.backend)
            try await waitUntil("Tier B is loaded again", timeout: .seconds(120)) {
                let status = try await platform.get(.backend, "/api/v2/subscriptions/status").json()
                return (status["tier_b"] as? [String: Any])?["state"] as? String == "loaded"
            }
            // The same size; the chains may have moved a strike with the price since, and what they no longer cover
            // has left the broker.
            let tierBAgain = try await Self.tierTokens(platform, tier: "B")
            #expect(tierBAgain.count == tierB.count)
            try await waitUntil("the broker streams exactly Tier B after the restart") { try await Self.streamed(platform) == tierBAgain }
        }
    }
}
