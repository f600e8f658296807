import AsyncHTTPClient
import BrokerWire

/// The candles of one broker answer, batch by batch, oldest first, whatever the broker's shape: Kite's answer is parsed
/// as it arrives (``KiteCandleStreamParser``), so memory stays flat whatever the range; Dhan's columns are read whole
/// (they cannot be split by row) and handed out in pages.
struct HistoryCandleBatches: AsyncSequence, Sendable {
    typealias Element = [KiteCandle]

    enum Source: Sendable {
        /// Kite's JSON body, not yet read.
        case kite(HTTPClientResponse.Body)
        /// Candles already decoded.
        case candles([KiteCandle])
    }

    /// Candles per batch of a decoded answer.
    static let pageSize = 2_000

    let source: Source

    func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case .kite(let body): AsyncIterator(body: body.makeAsyncIterator(), decoded: nil)
        case .candles(let candles): AsyncIterator(body: nil, decoded: candles[...])
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator?
        var decoded: ArraySlice<KiteCandle>?
        var parser = KiteCandleStreamParser()

        mutating func next() async throws -> [KiteCandle]? {
            if let rest = decoded {
                guard !rest.isEmpty else { return nil }
                let page = Array(rest.prefix(HistoryCandleBatches.pageSize))
                decoded = rest.dropFirst(page.count)
                return page
            }
            guard body != nil else { return nil }
            while let chunk = try await body?.next() {
                let candles = try parser.feed(chunk)
                if !candles.isEmpty { return candles }
            }
            body = nil
            try parser.finish()
            return nil
        }
    }
}
