import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import Testing
import TestSupport

@testable import TickerService

@Suite("TickerService batch release (POST /subscriptions/release)")
struct SubscriptionReleaseTests {
    @Test("one holder lets go of many instruments at once; another holder's instruments keep streaming; unheld tokens are reported")
    func releaseMany() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            let three = [SampleInstruments.niftyCall, SampleInstruments.reliance, SampleInstruments.crude].map { Int($0.instrumentToken) }
            let mine = try await client.post(
                "/subscriptions", json: ["instruments": three.map { ["instrument_token": $0, "requested_mode": "FULL"] }, "holder": "user:1"]
            )
            #expect(mine.status == .created)
            let theirs = try await client.post("/subscriptions", json: ["instrument_token": three[1], "requested_mode": "LTP", "holder": "user:2"])
            #expect(theirs.status == .ok)

            let notHeld = Int(SampleInstruments.niftyIndex.instrumentToken)
            let response = try await client.post("/subscriptions/release", json: ["holder": "user:1", "instrument_tokens": three + [notHeld]])
            #expect(response.status == .ok)
            let body = try TestJSON.object(response.body)
            #expect(body["released"] as? [Int] == three)
            #expect(body["removed"] as? [Int] == [three[0], three[2]])
            #expect(body["not_held"] as? [Int] == [notHeld])

            // The shared instrument stays, for user:2 only, in user:2's mode; the other two left the feed.
            let unsubscribed = await feed.unsubscribeCalls.flatMap { $0 }.map(Int.init).sorted()
            #expect(unsubscribed == [three[0], three[2]].sorted())
            let shared = try TestJSON.object(try await client.send("/subscriptions/\(three[1])", .get).body)
            #expect(shared["status"] as? String == "active" && shared["mode"] as? String == "LTP")
            #expect((shared["holders"] as? [[String: Any]])?.compactMap { $0["holder"] as? String } == ["user:2"])
            let events = try await fixture.waitForStreamEvents(5)
            #expect(events.filter { $0.event.kind == .removed }.map { Int($0.event.instrumentToken) }.sorted() == [three[0], three[2]].sorted())

            // A retry changes nothing and says so.
            let again = try TestJSON.object(try await client.post("/subscriptions/release", json: ["holder": "user:1", "instrument_tokens": three]).body)
            #expect((again["released"] as? [Int])?.isEmpty == true && again["not_held"] as? [Int] == three)
        }
    }

    @Test("bad bodies are 422 with what was wrong, and nothing changes")
    func badBodies() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let app = try await fixture.app(feed: RecordingFeed(), restore: false)
        try await app.test(.router) { client in
            for json: [String: Any] in [
                ["instrument_tokens": [1]], ["holder": "user:1"], ["holder": "bad holder", "instrument_tokens": [1]],
                ["holder": "user:1", "instrument_tokens": [0]], ["holder": "user:1", "instrument_tokens": ["256265"]],
            ] {
                let response = try await client.post("/subscriptions/release", json: json)
                #expect(response.status == .unprocessableContent, "\(json)")
                let body = try TestJSON.object(response.body)
                #expect((body["message"] as? String)?.isEmpty == false)
            }
        }
    }
}
