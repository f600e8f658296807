import Foundation
import Shared
import Testing

@Suite("Feed gap schema")
struct FeedGapCodecTests {
    @Test("a gap survives encode and decode, with duplicate tokens removed on decode")
    func roundTrip() throws {
        let gap = FeedGap(
            gapID: "g-1", reason: .stall, accountID: "kite-main", connectionID: "kite-main#0",
            startMillis: 1_764_651_610_250, endMillis: 1_764_651_690_000, instrumentTokens: [408_065, 738_561]
        )
        let text = FeedGapCodec.encode(gap)
        #expect(text.hasPrefix(#"{"account_id":"kite-main","connection_id":"kite-main#0","end_ms":1764651690000"#))
        #expect(try FeedGapCodec.decode(text) == gap)
        let doubled = text.replacingOccurrences(of: "[408065,738561]", with: "[408065,738561,408065]")
        #expect(try FeedGapCodec.decode(doubled).instrumentTokens == [408_065, 738_561])
    }

    @Test("the minutes a gap touches are every minute from its start's to its end's; it makes the next one suspect too when it may have lost ticks")
    func touchedMinutes() {
        let gap = FeedGap(gapID: "g", reason: .drop, startMillis: 1_764_651_659_900, endMillis: 1_764_651_720_000, instrumentTokens: [1])
        #expect(gap.touchedMinuteStarts == [1_764_651_600, 1_764_651_660, 1_764_651_720])
        let instant = FeedGap(gapID: "g", reason: .subscribed, startMillis: 1_764_651_601_000, endMillis: 1_764_651_601_000, instrumentTokens: [1])
        #expect(instant.touchedMinuteStarts == [1_764_651_600])
        // A gap that may have lost ticks makes the next minute suspect too; a subscription does not.
        #expect(gap.suspectMinuteStarts == [1_764_651_600, 1_764_651_660, 1_764_651_720, 1_764_651_780])
        #expect(instant.suspectMinuteStarts == [1_764_651_600])
    }

    @Test("a bad gap names its field", arguments: [
        (#"{"gap_id":"g","reason":"nap","start_ms":1,"end_ms":2,"instrument_tokens":[1]}"#, "reason"),
        (#"{"gap_id":"g","reason":"drop","start_ms":5,"end_ms":2,"instrument_tokens":[1]}"#, "end_ms"),
        (#"{"gap_id":"g","reason":"drop","start_ms":1,"end_ms":2,"instrument_tokens":[]}"#, "instrument_tokens"),
        (#"{"gap_id":"g","reason":"drop","start_ms":1,"end_ms":2,"instrument_tokens":[-4]}"#, "instrument_tokens"),
        (#"{"reason":"drop","start_ms":1,"end_ms":2,"instrument_tokens":[1]}"#, "gap_id"),
    ])
    func rejects(payload: String, field: String) {
        #expect(throws: SubscriptionEventError.self) { try FeedGapCodec.decode(payload) }
        do {
            _ = try FeedGapCodec.decode(payload)
        } catch {
            #expect(error.field == field)
        }
    }
}
