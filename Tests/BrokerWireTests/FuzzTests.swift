import BrokerWire
import Testing
import WireFixtures

/// Seeded property tests: random and mutated frames never trap, every error is typed, and what decodes re-encodes.
/// The bench target's `wire fuzz` runs millions of the same cases; `make test` runs these ~100k per codec.
@Suite("Wire fuzz")
struct FuzzTests {
    static let kiteCodes: Set<KiteWireError.Code> = [.truncatedFrame, .truncatedPacket, .unknownPacketLength, .trailingBytes]
    static let dhanCodes: Set<DhanWireError.Code> = [.truncatedHeader, .truncatedPacket, .unknownResponseCode]

    @Test("Kite: 100k random and mutated frames", arguments: [1, 2, 3, 4] as [UInt64])
    func kite(seed: UInt64) {
        var rng = WireRandom(seed: 0xC0FFEE &+ seed)
        var ticks = 0
        var errors = 0
        for _ in 0..<25_000 {
            let frame = WireSamples.kiteFuzzFrame(&rng)
            let decoded = KiteTickerCodec.decodeFrame(frame)
            ticks += decoded.ticks.count
            errors += decoded.errors.count
            if decoded.isHeartbeat {
                #expect(frame.count == 1)
                continue
            }
            for error in decoded.errors {
                #expect(Self.kiteCodes.contains(error.code), "\(error)")
                #expect((error.offset ?? 0) <= frame.count)
            }
            // Every packet that decoded re-encodes to the same bytes modulo depth padding.
            for tick in decoded.ticks {
                #expect(KiteTickerCodec.decodePacket(KiteTickerCodec.encodePacket(tick)) == tick)
            }
            // A frame without errors re-encodes to itself (except the two padding bytes of each depth level).
            if decoded.errors.isEmpty, !decoded.ticks.contains(where: { $0.depth != nil }) {
                #expect(KiteTickerCodec.encodeFrame(decoded.ticks) == frame)
            }
        }
        #expect(ticks > 10_000 && errors > 10_000)
    }

    @Test("Dhan: 100k random and mutated messages", arguments: [1, 2, 3, 4] as [UInt64])
    func dhan(seed: UInt64) {
        var rng = WireRandom(seed: 0xD11A &+ seed)
        var ok = 0
        var failed = 0
        for _ in 0..<25_000 {
            let message = WireSamples.dhanFuzzMessage(&rng)
            for result in DhanFeedCodec.decode(message) {
                switch result {
                case let .success(packet):
                    ok += 1
                    let again = DhanFeedCodec.decodePacket(DhanFeedCodec.encode(packet))
                    // NaN prices from mutated bytes are not equal to themselves; compare the bytes instead.
                    if case let .success(p) = again {
                        #expect(DhanFeedCodec.encode(p) == DhanFeedCodec.encode(packet))
                    } else {
                        Issue.record("re-encoded packet failed to decode")
                    }
                case let .failure(error):
                    failed += 1
                    #expect(Self.dhanCodes.contains(error.code), "\(error)")
                    #expect((error.offset ?? 0) <= message.count)
                }
            }
        }
        #expect(ok > 10_000 && failed > 10_000)
    }

    @Test("JSON request decoders never trap on mutated text")
    func json() {
        var rng = WireRandom(seed: 7)
        let seeds = [
            KiteRequest.mode(.full, [738_561, 5633]).jsonText(), KiteRequest.subscribe([1, 2, 3]).jsonText(),
            KiteTextMessage.order(json: #"{"a":[1,2,{"b":"\u00e9\n"}],"c":-1.5e3,"d":true,"e":null}"#).jsonText(),
            DhanRequest.subscribe(.quote, [DhanInstrument(.nseEQ, "1333")]).jsonText(),
        ]
        var decoded = 0
        for i in 0..<20_000 {
            let text = seeds[i % seeds.count]
            let bytes = WireSamples.mutate(Array(text.utf8), &rng)
            let mutated = String(decoding: bytes, as: UTF8.self)
            if (try? KiteRequest.decode(jsonText: mutated)) != nil { decoded += 1 }
            if (try? KiteTextMessage.decode(jsonText: mutated)) != nil { decoded += 1 }
            if (try? DhanRequest.decode(jsonText: mutated)) != nil { decoded += 1 }
        }
        #expect(decoded > 0)
    }
}
