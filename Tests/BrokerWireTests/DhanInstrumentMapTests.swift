import BrokerWire
import Testing

@Suite("Kite ↔ Dhan instrument table")
struct DhanInstrumentMapTests {
    @Test("exchange-traded instruments keep their exchange token as Dhan's security id, segment by segment, and map back")
    func segments() throws {
        let expected: [(KiteSegment, DhanExchangeSegment)] = [
            (.nse, .nseEQ), (.bse, .bseEQ), (.nfo, .nseFNO), (.bfo, .bseFNO), (.mcx, .mcxComm), (.cds, .nseCurrency), (.bcd, .bseCurrency),
        ]
        for (kite, dhan) in expected {
            for exchangeToken: UInt32 in [1, 2885, 35_001, 825_001, 0x00ff_ffff] {
                let token = KiteSegment.token(exchangeToken: exchangeToken, segment: kite)
                let id = try DhanInstrumentMap.dhanInstrument(forKiteToken: token).get()
                #expect(id == DhanInstrumentID(dhan, exchangeToken), "\(kite) \(exchangeToken)")
                #expect(DhanInstrumentMap.kiteToken(for: id) == token)
            }
        }
    }

    @Test("indices go through Dhan's own IDX_I ids: NIFTY 50 is 13, NIFTY BANK 25, SENSEX 51")
    func indices() throws {
        #expect(try DhanInstrumentMap.dhanInstrument(forKiteToken: 256_265).get() == DhanInstrumentID(.idxI, 13))
        #expect(try DhanInstrumentMap.dhanInstrument(forKiteToken: 260_105).get() == DhanInstrumentID(.idxI, 25))
        #expect(try DhanInstrumentMap.dhanInstrument(forKiteToken: 265).get() == DhanInstrumentID(.idxI, 51))
        #expect(DhanInstrumentMap.kiteToken(for: DhanInstrumentID(.idxI, 13)) == 256_265)
        for index in DhanInstrumentMap.indices {
            let token = KiteSegment.token(exchangeToken: index.kiteExchangeToken, segment: .indices)
            let id = try DhanInstrumentMap.dhanInstrument(forKiteToken: token).get()
            #expect(DhanInstrumentMap.kiteToken(for: id) == token, "\(index.name)")
        }
        #expect(DhanInstrumentMap.kiteToken(for: DhanInstrumentID(.idxI, 999_999)) == nil)
    }

    @Test("instruments Dhan cannot address are refused with a reason")
    func unmapped() {
        let nifty_it = KiteSegment.token(exchangeToken: 1015, segment: .indices)
        for token in [nifty_it, KiteSegment.token(exchangeToken: 5, segment: .nco), KiteSegment.token(exchangeToken: 5, segment: .mcxsx), 0x0000_0b0b] {
            guard case let .failure(unmapped) = DhanInstrumentMap.dhanInstrument(forKiteToken: token) else {
                Issue.record("\(token) should have no Dhan mapping")
                continue
            }
            #expect(unmapped.kiteToken == token)
            #expect(unmapped.reason.contains("\(token)"))
        }
        #expect(DhanInstrumentMap.kiteToken(for: DhanInstrumentID(exchangeSegment: 6, securityId: 1)) == nil, "segment byte 6 is not Dhan's")
    }
}
