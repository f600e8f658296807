import BrokerWire
import NIOCore

/// Reads Kite's historical answer `{"status":"success","data":{"candles":[[...],[...]]}}` as it arrives, chunk by
/// chunk, and returns the candles of every complete row, so that `/history` can pass them on without holding the
/// whole answer. Rows are Kite's flat arrays (`["2025-11-20T09:15:00+0530",o,h,l,c,v(,oi)]`: no nested arrays, no `]`
/// inside their strings); each batch of complete rows is checked by ``KiteHistoricalJSON/parse(_:)``.
struct KiteCandleStreamParser {
    private enum Phase { case header, rows, done }

    /// Most bytes held while waiting for the end of the header or of one row.
    static let maxPendingBytes = 1 << 20

    private var buffer: [UInt8] = []
    private var phase = Phase.header

    /// Whether the closing `]` of the candles array was read.
    var isComplete: Bool { phase == .done }

    /// Adds a chunk of the answer.
    /// - Returns: The candles of the rows the chunk completed, in order.
    mutating func feed(_ chunk: ByteBuffer) throws(HistoryError) -> [KiteCandle] {
        guard phase != .done else { return [] }
        buffer.append(contentsOf: chunk.readableBytesView)
        var cursor = 0
        if phase == .header {
            guard let start = Self.rowsStart(buffer) else {
                guard buffer.count <= Self.maxPendingBytes else { throw Self.error("no candles array in the first \(buffer.count) bytes") }
                return []
            }
            if start < 0 { throw Self.error("the answer is not Kite's candles JSON") }
            cursor = start
            phase = .rows
        }
        var rows: [Range<Int>] = []
        scan: while cursor < buffer.count {
            switch buffer[cursor] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), UInt8(ascii: ","):
                cursor += 1
            case UInt8(ascii: "]"):
                phase = .done
                cursor += 1
                break scan
            case UInt8(ascii: "["):
                guard let close = buffer[cursor...].firstIndex(of: UInt8(ascii: "]")) else { break scan }
                rows.append(cursor..<(close + 1))
                cursor = close + 1
            default:
                throw Self.error("unexpected byte in the candles array")
            }
        }
        var candles: [KiteCandle] = []
        if !rows.isEmpty {
            var text = #"{"status":"success","data":{"candles":["#
            for (index, row) in rows.enumerated() {
                if index > 0 { text += "," }
                text += String(decoding: buffer[row], as: UTF8.self)
            }
            text += "]}}"
            do {
                candles = try KiteHistoricalJSON.parse(text)
            } catch {
                throw Self.error("\(error)")
            }
        }
        if phase == .done {
            buffer.removeAll()
        } else {
            buffer.removeFirst(cursor)
            guard buffer.count <= Self.maxPendingBytes else { throw Self.error("a candle row is longer than \(Self.maxPendingBytes) bytes") }
        }
        return candles
    }

    /// Checks that the answer ended after its candles array.
    func finish() throws(HistoryError) {
        guard phase == .done else { throw Self.error("the broker's answer ended inside the candles array") }
    }

    /// The index after `"candles":[`; nil when more bytes are needed; -1 when the answer cannot be Kite's.
    private static func rowsStart(_ bytes: [UInt8]) -> Int? {
        let key = Array(#""candles""#.utf8)
        guard bytes.count >= key.count else { return nil }
        var found: Int?
        for start in 0...(bytes.count - key.count) where bytes[start] == key[0] && Array(bytes[start..<(start + key.count)]) == key {
            found = start + key.count
            break
        }
        guard var index = found else { return nil }
        func skipSpace() { while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 } }
        skipSpace()
        guard index < bytes.count else { return nil }
        guard bytes[index] == UInt8(ascii: ":") else { return -1 }
        index += 1
        skipSpace()
        guard index < bytes.count else { return nil }
        guard bytes[index] == UInt8(ascii: "[") else { return -1 }
        return index + 1
    }

    private static func error(_ message: String) -> HistoryError {
        HistoryError(code: .upstreamFailed, message: "unreadable broker answer: \(message)")
    }
}

extension KiteHistoricalJSON {
    /// The envelope ``encode(_:includeOI:)`` writes around the rows.
    static let candlesPrefix = #"{"status":"success","data":{"candles":["#
    static let candlesSuffix = "]}}"

    /// The candles as Kite's rows, comma-separated, without the envelope (the text ``encode(_:includeOI:)`` writes
    /// between ``candlesPrefix`` and ``candlesSuffix``).
    static func rows(_ candles: [KiteCandle], includeOI: Bool) -> Substring {
        let whole = encode(candles, includeOI: includeOI)
        precondition(whole.hasPrefix(candlesPrefix) && whole.hasSuffix(candlesSuffix), "KiteHistoricalJSON.encode changed its envelope")
        return whole.dropFirst(candlesPrefix.count).dropLast(candlesSuffix.count)
    }
}
