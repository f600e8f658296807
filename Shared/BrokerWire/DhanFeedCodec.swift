// Dhan market feed v2 binary packets: decoding (never traps) and encoding.
//
// Every packet starts with an 8-byte little-endian header: response code u8, message length u16 (the whole
// packet, header included), exchange segment u8, security id u32. Layouts follow dhanhq `marketfeed.py`
// (`process_ticker`, `process_quote`, `process_oi`, `process_prev_close`, `process_status`, `process_full`,
// `server_disconnection`). All values are little-endian; prices are IEEE 754 float32.

/// Decoder and encoder for Dhan market feed v2 binary messages.
public enum DhanFeedCodec {
    /// The length of the packet header.
    public static let headerLength = 8

    /// Decodes one binary WebSocket message, which may hold several packets back to back. Never traps.
    ///
    /// Each packet's length comes from its response code. When the header's message length is larger (and fits),
    /// the extra bytes are skipped, so longer future packets do not derail the rest. A packet with an unknown
    /// response code is reported and skipped using its message length; decoding stops where the data is cut short.
    /// - Parameters:
    ///   - bytes: The message payload.
    /// - Returns: One result per packet, in order.
    public static func decode(_ bytes: some Collection<UInt8>) -> [Result<DhanPacket, DhanWireError>] {
        if let result = bytes.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { decode($0) }
    }

    /// Decodes one binary WebSocket message held in raw memory. Never traps.
    /// - Parameters:
    ///   - raw: The message payload.
    /// - Returns: One result per packet, in order.
    public static func decode(_ raw: UnsafeRawBufferPointer) -> [Result<DhanPacket, DhanWireError>] {
        var results: [Result<DhanPacket, DhanWireError>] = []
        let count = raw.count
        if count == 0 {
            results.append(.failure(DhanWireError(.truncatedHeader, "empty message", offset: 0)))
            return results
        }
        var offset = 0
        while offset < count {
            let remaining = count - offset
            guard remaining >= headerLength else {
                results.append(.failure(DhanWireError(
                    .truncatedHeader, "\(remaining) bytes left, a packet header needs 8", offset: offset)))
                return results
            }
            let code = raw[offset]
            let declared = Int(readU16(raw, offset + 1))
            guard let response = DhanResponseCode(rawValue: code) else {
                results.append(.failure(DhanWireError(
                    .unknownResponseCode, "unknown response code \(code)", offset: offset)))
                guard declared >= headerLength, declared <= remaining else { return results }
                offset += declared
                continue
            }
            let length = response.packetLength
            guard length <= remaining else {
                results.append(.failure(DhanWireError(
                    .truncatedPacket, "response code \(code) needs \(length) bytes, \(remaining) remain", offset: offset)))
                return results
            }
            results.append(.success(decodeKnown(raw, at: offset, response)))
            offset += declared > length && declared <= remaining ? declared : length
        }
        return results
    }

    /// Decodes exactly one packet from the start of `bytes`. Never traps.
    /// - Parameters:
    ///   - bytes: A packet (extra bytes after it are ignored).
    /// - Returns: The packet or the reason it could not be decoded.
    public static func decodePacket(_ bytes: some Collection<UInt8>) -> Result<DhanPacket, DhanWireError> {
        let all = decode(bytes)
        return all.first ?? .failure(DhanWireError(.truncatedHeader, "empty message", offset: 0))
    }

    @inline(__always)
    static func readU16(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    static func readU32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    static func readF32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        Float(bitPattern: readU32(raw, offset))
    }

    /// The caller has checked `o + response.packetLength <= raw.count`; that check covers every read below.
    static func decodeKnown(_ raw: UnsafeRawBufferPointer, at o: Int, _ response: DhanResponseCode) -> DhanPacket {
        let id = DhanInstrumentID(exchangeSegment: raw[o + 3], securityId: readU32(raw, o + 4))
        switch response {
        case .ticker:
            return .ticker(DhanTicker(instrument: id, lastPrice: readF32(raw, o + 8), lastTradeTime: readU32(raw, o + 12)))
        case .previousClose:
            return .previousClose(id, price: readF32(raw, o + 8), oi: readU32(raw, o + 12))
        case .oi:
            return .oi(id, oi: readU32(raw, o + 8))
        case .marketStatus:
            return .marketStatus(id)
        case .disconnect:
            return .disconnect(id, code: readU16(raw, o + 8))
        case .quote:
            return .quote(decodeQuote(raw, at: o, id, ohlcAt: o + 34))
        case .full:
            var depth = [DhanDepthLevel]()
            depth.reserveCapacity(5)
            var p = o + 62
            for _ in 0..<5 {
                depth.append(DhanDepthLevel(
                    bidQuantity: readU32(raw, p),
                    askQuantity: readU32(raw, p + 4),
                    bidOrders: readU16(raw, p + 8),
                    askOrders: readU16(raw, p + 10),
                    bidPrice: readF32(raw, p + 12),
                    askPrice: readF32(raw, p + 16)))
                p += 20
            }
            return .full(DhanFull(
                quote: decodeQuote(raw, at: o, id, ohlcAt: o + 46),
                oi: readU32(raw, o + 34),
                oiDayHigh: readU32(raw, o + 38),
                oiDayLow: readU32(raw, o + 42),
                depth: depth))
        }
    }

    /// The fields quote and full packets share: the trade fields at bytes 8..<34, then OHLC at `ohlc` (right after them
    /// in a quote packet; after the three OI fields in a full packet).
    @inline(__always)
    static func decodeQuote(_ raw: UnsafeRawBufferPointer, at o: Int, _ id: DhanInstrumentID, ohlcAt ohlc: Int) -> DhanQuote {
        DhanQuote(
            instrument: id,
            lastPrice: readF32(raw, o + 8),
            lastTradedQuantity: readU16(raw, o + 12),
            lastTradeTime: readU32(raw, o + 14),
            averagePrice: readF32(raw, o + 18),
            volume: readU32(raw, o + 22),
            totalSellQuantity: readU32(raw, o + 26),
            totalBuyQuantity: readU32(raw, o + 30),
            open: readF32(raw, ohlc),
            close: readF32(raw, ohlc + 4),
            high: readF32(raw, ohlc + 8),
            low: readF32(raw, ohlc + 12))
    }

    // MARK: Encoding

    /// Encodes one packet; the header's message length is the packet's full length.
    /// - Parameters:
    ///   - packet: The packet.
    /// - Returns: The packet bytes.
    public static func encode(_ packet: DhanPacket) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(packet.responseCode.packetLength)
        append(packet, to: &out)
        return out
    }

    /// Encodes several packets back to back in one message.
    /// - Parameters:
    ///   - packets: The packets.
    /// - Returns: The message bytes.
    public static func encode(_ packets: [DhanPacket]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(packets.reduce(0) { $0 + $1.responseCode.packetLength })
        for packet in packets { append(packet, to: &out) }
        return out
    }

    /// Appends one packet to a buffer.
    /// - Parameters:
    ///   - packet: The packet.
    ///   - out: The buffer to append to.
    public static func append(_ packet: DhanPacket, to out: inout [UInt8]) {
        let response = packet.responseCode
        let id = packet.instrument
        out.append(response.rawValue)
        appendU16(&out, UInt16(response.packetLength))
        out.append(id.exchangeSegment)
        appendU32(&out, id.securityId)
        switch packet {
        case let .ticker(p):
            appendF32(&out, p.lastPrice)
            appendU32(&out, p.lastTradeTime)
        case let .previousClose(_, price, oi):
            appendF32(&out, price)
            appendU32(&out, oi)
        case let .oi(_, oi):
            appendU32(&out, oi)
        case .marketStatus:
            break
        case let .disconnect(_, code):
            appendU16(&out, code)
        case let .quote(p):
            appendTrade(&out, p)
            appendOHLC(&out, p)
        case let .full(p):
            appendTrade(&out, p.quote)
            appendU32(&out, p.oi)
            appendU32(&out, p.oiDayHigh)
            appendU32(&out, p.oiDayLow)
            appendOHLC(&out, p.quote)
            for i in 0..<5 {
                let level = i < p.depth.count ? p.depth[i] : DhanDepthLevel()
                appendU32(&out, level.bidQuantity)
                appendU32(&out, level.askQuantity)
                appendU16(&out, level.bidOrders)
                appendU16(&out, level.askOrders)
                appendF32(&out, level.bidPrice)
                appendF32(&out, level.askPrice)
            }
        }
    }

    /// The trade fields of quote and full packets (bytes 8..<34).
    @inline(__always)
    static func appendTrade(_ out: inout [UInt8], _ quote: DhanQuote) {
        appendF32(&out, quote.lastPrice)
        appendU16(&out, quote.lastTradedQuantity)
        appendU32(&out, quote.lastTradeTime)
        appendF32(&out, quote.averagePrice)
        appendU32(&out, quote.volume)
        appendU32(&out, quote.totalSellQuantity)
        appendU32(&out, quote.totalBuyQuantity)
    }

    /// Open, close, high, low: Dhan's order on the wire.
    @inline(__always)
    static func appendOHLC(_ out: inout [UInt8], _ quote: DhanQuote) {
        appendF32(&out, quote.open)
        appendF32(&out, quote.close)
        appendF32(&out, quote.high)
        appendF32(&out, quote.low)
    }

    @inline(__always)
    static func appendU16(_ out: inout [UInt8], _ value: UInt16) {
        out.append(UInt8(truncatingIfNeeded: value))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    @inline(__always)
    static func appendU32(_ out: inout [UInt8], _ value: UInt32) {
        out.append(UInt8(truncatingIfNeeded: value))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    @inline(__always)
    static func appendF32(_ out: inout [UInt8], _ value: Float) {
        appendU32(&out, value.bitPattern)
    }
}
