import BrokerWire
import Foundation
import Hummingbird
import Synchronization

/// Dhan's instrument list, the compact scrip master (`https://images.dhan.co/api-data/api-scrip-master.csv`, what
/// dhanhq's `fetch_security_list("compact")` reads), at `GET /dhan/api-scrip-master.csv`: its 16 columns, one row per
/// instrument of the universe that ``DhanInstrumentMap`` maps, derived from the Kite row.
struct DhanScripMasterController<Context: RequestContext>: Sendable {
    static var header: [String] {
        [
            "SEM_EXM_EXCH_ID", "SEM_SEGMENT", "SEM_SMST_SECURITY_ID", "SEM_INSTRUMENT_NAME", "SEM_EXPIRY_CODE", "SEM_TRADING_SYMBOL",
            "SEM_LOT_UNITS", "SEM_CUSTOM_SYMBOL", "SEM_EXPIRY_DATE", "SEM_STRIKE_PRICE", "SEM_OPTION_TYPE", "SEM_TICK_SIZE",
            "SEM_EXPIRY_FLAG", "SEM_EXCH_INSTRUMENT_TYPE", "SEM_SERIES", "SM_SYMBOL_NAME",
        ]
    }

    /// The file's `SEM_EXM_EXCH_ID` and `SEM_SEGMENT` of each Dhan segment; an index's exchange (`NSE` or `BSE`) is its
    /// Kite row's.
    static var segmentColumns: [DhanExchangeSegment: (exchange: String?, letter: String)] {
        [
            .idxI: (nil, "I"), .nseEQ: ("NSE", "E"), .bseEQ: ("BSE", "E"), .nseFNO: ("NSE", "D"), .bseFNO: ("BSE", "D"),
            .nseCurrency: ("NSE", "C"), .bseCurrency: ("BSE", "C"), .mcxComm: ("MCX", "M"),
        ]
    }

    let universe: InstrumentUniverse
    private let cache = Cache()

    init(universe: InstrumentUniverse) {
        self.universe = universe
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("dhan/api-scrip-master.csv") { _, _ in
            let csv = cache.csv { Self.csv(universe) }
            return Response(
                status: .ok, headers: [.contentType: "text/csv", .contentLength: String(csv.readableBytes)], body: .init(byteBuffer: csv)
            )
        }
        return routes
    }

    /// The whole file (the universe is immutable, so it is built once).
    static func csv(_ universe: InstrumentUniverse) -> ByteBuffer {
        var lines = [header.joined(separator: ",")]
        for instrument in universe.instruments {
            guard case .success(let id) = DhanInstrumentMap.dhanInstrument(forKiteToken: instrument.instrumentToken), let segment = id.segment,
                  let chartInstrument = universe.dhanChartInstrument(token: instrument.instrumentToken)
            else { continue }
            lines.append(row(instrument, id: id, segment: segment, chartInstrument: chartInstrument).joined(separator: ","))
        }
        return ByteBuffer(string: lines.joined(separator: "\n") + "\n")
    }

    static func row(_ instrument: KiteInstrument, id: DhanInstrumentID, segment: DhanExchangeSegment, chartInstrument: String) -> [String] {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let isDerivative = instrument.isOption || instrument.isFuture
        let name = instrument.name.isEmpty ? instrument.tradingsymbol : instrument.name
        var tradingSymbol = instrument.tradingsymbol
        var customSymbol = instrument.tradingsymbol
        var expiryDate = ""
        if let expiry = instrument.expiry, isDerivative {
            let month = months[expiry.month - 1]
            let strike = KiteInstrumentCSV.formatNumber(instrument.strike)
            tradingSymbol = instrument.isOption ? "\(name)-\(month)\(expiry.year)-\(strike)-\(instrument.instrumentType)" : "\(name)-\(month)\(expiry.year)-FUT"
            customSymbol = instrument.isOption
                ? "\(name) \(expiry.day) \(month.uppercased()) \(strike) \(instrument.instrumentType == "CE" ? "CALL" : "PUT")" : "\(name) \(month.uppercased()) FUT"
            expiryDate = "\(expiry.iso) 14:30:00"
        }
        return [
            segmentColumns[segment]?.exchange ?? instrument.exchange,
            segmentColumns[segment]?.letter ?? "",
            String(id.securityId),
            chartInstrument,
            "0",
            tradingSymbol,
            String(format: "%.1f", Double(instrument.lotSize)),
            customSymbol.replacingOccurrences(of: ",", with: " "),
            expiryDate,
            instrument.isOption ? String(format: "%.5f", instrument.strike) : isDerivative ? "-0.01000" : "",
            instrument.isOption ? instrument.instrumentType : "XX",
            String(format: "%.4f", instrument.tickSize * 100),
            isDerivative ? "M" : "NA",
            instrument.isOption ? "OP" : isDerivative ? "FUT" : segment == .idxI ? "INDEX" : "ES",
            segment == .nseEQ ? "EQ" : segment == .bseEQ ? "A" : "NA",
            name.replacingOccurrences(of: ",", with: " "),
        ]
    }

    /// The built file, kept.
    final class Cache: Sendable {
        private let body = Mutex<ByteBuffer?>(nil)

        func csv(_ build: () -> ByteBuffer) -> ByteBuffer {
            if let built = body.withLock({ $0 }) { return built }
            let built = build()
            body.withLock { $0 = built }
            return built
        }
    }
}
