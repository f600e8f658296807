// Kite Connect WebSocket binary frames: decoding (never traps) and encoding.
//
// Frame: u16 BE packet count, then per packet u16 BE length + packet. All integers big-endian.
// Layouts follow pykiteconnect `KiteTicker._parse_binary`.

/// The result of decoding one binary WebSocket message from Kite.
public struct KiteDecodedFrame: Sendable, Equatable {
    /// Whether the message was a 1-byte heartbeat.
    public var isHeartbeat: Bool
    /// The packets that decoded, in frame order.
    public var ticks: [KiteTick]
    /// Problems found; a bad packet does not lose the good ones around it.
    public var errors: [KiteWireError]

    /// Creates a decoded frame.
    /// - Parameters:
    ///   - isHeartbeat: Whether the message was a heartbeat.
    ///   - ticks: The decoded ticks.
    ///   - errors: The problems found.
    public init(isHeartbeat: Bool = false, ticks: [KiteTick] = [], errors: [KiteWireError] = []) {
        self.isHeartbeat = isHeartbeat
        self.ticks = ticks
        self.errors = errors
    }
}

/// Decoder and encoder for Kite Connect's binary tick frames.
public enum KiteTickerCodec {
    /// LTP packet length.
    public static let ltpPacketLength = 8
    /// Index quote packet length.
    public static let indexQuotePacketLength = 28
    /// Index full packet length.
    public static let indexFullPacketLength = 32
    /// Quote packet length.
    public static let quotePacketLength = 44
    /// Full packet length (with 10 depth levels of 12 bytes from offset 64).
    public static let fullPacketLength = 184

    /// The packet length for a mode and layout.
    /// - Parameters:
    ///   - mode: The streaming mode.
    ///   - isIndex: Whether the index layout is used (ignored in `ltp` mode).
    /// - Returns: 8, 28, 32, 44 or 184.
    @inlinable
    public static func packetLength(mode: KiteMode, isIndex: Bool) -> Int {
        switch mode {
        case .ltp: 8
        case .quote: isIndex ? 28 : 44
        case .full: isIndex ? 32 : 184
        }
    }

    // MARK: Decoding

    /// Decodes one binary WebSocket message. Never traps, whatever the input.
    ///
    /// A 1-byte message is a heartbeat. Otherwise the packets are decoded in order; a packet of unknown length
    /// is reported and skipped, and decoding stops (with an error) where the frame is cut short.
    /// - Parameters:
    ///   - bytes: The message payload.
    /// - Returns: The ticks and any errors.
    public static func decodeFrame(_ bytes: some Collection<UInt8>) -> KiteDecodedFrame {
        if let result = bytes.withContiguousStorageIfAvailable({ decodeFrame(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { decodeFrame($0) }
    }

    /// Decodes one binary WebSocket message held in raw memory. Never traps, whatever the input.
    /// - Parameters:
    ///   - raw: The message payload.
    /// - Returns: The ticks and any errors.
    public static func decodeFrame(_ raw: UnsafeRawBufferPointer) -> KiteDecodedFrame {
        var frame = KiteDecodedFrame()
        let count = raw.count
        if count == 1 {
            frame.isHeartbeat = true
            return frame
        }
        guard count >= 2 else {
            frame.errors.append(KiteWireError(.truncatedFrame, "empty frame", offset: 0))
            return frame
        }
        let packets = Int(readU16(raw, 0))
        frame.ticks.reserveCapacity(min(packets, (count - 2) / (2 + ltpPacketLength)))
        var offset = 2
        for index in 0..<packets {
            guard offset + 2 <= count else {
                frame.errors.append(KiteWireError(
                    .truncatedFrame, "frame ends before the length of packet \(index) of \(packets)", offset: offset))
                return frame
            }
            let length = Int(readU16(raw, offset))
            let start = offset + 2
            guard length <= count - start else {
                frame.errors.append(KiteWireError(
                    .truncatedPacket,
                    "packet \(index) of \(packets) claims \(length) bytes but only \(count - start) remain",
                    offset: offset))
                return frame
            }
            if let tick = decodePacket(raw, start: start, length: length) {
                frame.ticks.append(tick)
            } else {
                frame.errors.append(KiteWireError(
                    .unknownPacketLength, "packet \(index) has unknown length \(length)", offset: offset))
            }
            offset = start + length
        }
        if offset != count {
            frame.errors.append(KiteWireError(
                .trailingBytes, "\(count - offset) bytes after the \(packets) announced packets", offset: offset))
        }
        return frame
    }

    /// Decodes one packet (without its length prefix). Never traps.
    /// - Parameters:
    ///   - bytes: Exactly one packet: 8, 28, 32, 44 or 184 bytes.
    /// - Returns: The tick, or `nil` when the length is not a known packet length.
    public static func decodePacket(_ bytes: some Collection<UInt8>) -> KiteTick? {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer -> KiteTick? in
            let raw = UnsafeRawBufferPointer(buffer)
            return decodePacket(raw, start: 0, length: raw.count)
        }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { decodePacket($0, start: 0, length: $0.count) }
    }

    @inline(__always)
    static func readU16(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    static func readU32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    static func readI32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> Int32 {
        Int32(bitPattern: readU32(raw, offset))
    }

    /// The caller guarantees `start + length <= raw.count`; that one check covers every read below.
    static func decodePacket(_ raw: UnsafeRawBufferPointer, start s: Int, length: Int) -> KiteTick? {
        guard s >= 0, length >= 0, s + length <= raw.count else { return nil }
        switch length {
        case ltpPacketLength:
            let token = readU32(raw, s)
            return KiteTick(
                instrumentToken: token, mode: .ltp, isIndex: token & 0xff == UInt32(KiteSegment.indices.rawValue),
                lastPrice: readI32(raw, s + 4))
        case indexQuotePacketLength, indexFullPacketLength:
            let full = length == indexFullPacketLength
            return KiteTick(
                instrumentToken: readU32(raw, s),
                mode: full ? .full : .quote,
                isIndex: true,
                lastPrice: readI32(raw, s + 4),
                open: readI32(raw, s + 16),
                high: readI32(raw, s + 8),
                low: readI32(raw, s + 12),
                close: readI32(raw, s + 20),
                change: readI32(raw, s + 24),
                exchangeTimestamp: full ? readU32(raw, s + 28) : 0)
        case quotePacketLength:
            return KiteTick(
                instrumentToken: readU32(raw, s),
                mode: .quote,
                lastPrice: readI32(raw, s + 4),
                lastTradedQuantity: readU32(raw, s + 8),
                averageTradedPrice: readI32(raw, s + 12),
                volumeTraded: readU32(raw, s + 16),
                totalBuyQuantity: readU32(raw, s + 20),
                totalSellQuantity: readU32(raw, s + 24),
                open: readI32(raw, s + 28),
                high: readI32(raw, s + 32),
                low: readI32(raw, s + 36),
                close: readI32(raw, s + 40))
        case fullPacketLength:
            var buy = [KiteDepthEntry]()
            var sell = [KiteDepthEntry]()
            buy.reserveCapacity(KiteDepth.levels)
            sell.reserveCapacity(KiteDepth.levels)
            var p = s + 64
            for _ in 0..<KiteDepth.levels {
                buy.append(KiteDepthEntry(quantity: readU32(raw, p), price: readI32(raw, p + 4), orders: readU16(raw, p + 8)))
                p += 12
            }
            for _ in 0..<KiteDepth.levels {
                sell.append(KiteDepthEntry(quantity: readU32(raw, p), price: readI32(raw, p + 4), orders: readU16(raw, p + 8)))
                p += 12
            }
            return KiteTick(
                instrumentToken: readU32(raw, s),
                mode: .full,
                lastPrice: readI32(raw, s + 4),
                lastTradedQuantity: readU32(raw, s + 8),
                averageTradedPrice: readI32(raw, s + 12),
                volumeTraded: readU32(raw, s + 16),
                totalBuyQuantity: readU32(raw, s + 20),
                totalSellQuantity: readU32(raw, s + 24),
                open: readI32(raw, s + 28),
                high: readI32(raw, s + 32),
                low: readI32(raw, s + 36),
                close: readI32(raw, s + 40),
                lastTradeTime: readU32(raw, s + 44),
                oi: readU32(raw, s + 48),
                oiDayHigh: readU32(raw, s + 52),
                oiDayLow: readU32(raw, s + 56),
                exchangeTimestamp: readU32(raw, s + 60),
                depth: KiteDepth(buy: buy, sell: sell))
        default:
            return nil
        }
    }

    // MARK: Encoding

    /// The largest number of packets one frame can announce.
    public static let maxPacketsPerFrame = Int(UInt16.max)

    /// Encodes ticks as one binary frame.
    ///
    /// Each tick is written in the layout its ``KiteTick/mode`` and ``KiteTick/isIndex`` select; fields that
    /// layout lacks are not sent. A `full` non-index tick without depth is sent with zero depth.
    /// - Parameters:
    ///   - ticks: At most ``maxPacketsPerFrame`` ticks (a programmer error otherwise; split larger batches).
    /// - Returns: The frame bytes.
    public static func encodeFrame(_ ticks: [KiteTick]) -> [UInt8] {
        precondition(ticks.count <= maxPacketsPerFrame, "a Kite frame holds at most 65535 packets")
        var size = 2
        for tick in ticks { size += 2 + tick.packetLength }
        var out = [UInt8]()
        out.reserveCapacity(size)
        appendU16(&out, UInt16(ticks.count))
        for tick in ticks {
            appendU16(&out, UInt16(tick.packetLength))
            appendPacket(tick, to: &out)
        }
        return out
    }

    /// Appends one packet (without its length prefix) to a buffer.
    /// - Parameters:
    ///   - tick: The tick to encode.
    ///   - out: The buffer to append to.
    public static func appendPacket(_ tick: KiteTick, to out: inout [UInt8]) {
        appendU32(&out, tick.instrumentToken)
        appendI32(&out, tick.lastPrice)
        switch (tick.mode, tick.isIndex) {
        case (.ltp, _):
            return
        case (.quote, true), (.full, true):
            appendI32(&out, tick.high)
            appendI32(&out, tick.low)
            appendI32(&out, tick.open)
            appendI32(&out, tick.close)
            appendI32(&out, tick.change)
            if tick.mode == .full {
                appendU32(&out, tick.exchangeTimestamp)
            }
        case (.quote, false), (.full, false):
            appendU32(&out, tick.lastTradedQuantity)
            appendI32(&out, tick.averageTradedPrice)
            appendU32(&out, tick.volumeTraded)
            appendU32(&out, tick.totalBuyQuantity)
            appendU32(&out, tick.totalSellQuantity)
            appendI32(&out, tick.open)
            appendI32(&out, tick.high)
            appendI32(&out, tick.low)
            appendI32(&out, tick.close)
            guard tick.mode == .full else { return }
            appendU32(&out, tick.lastTradeTime)
            appendU32(&out, tick.oi)
            appendU32(&out, tick.oiDayHigh)
            appendU32(&out, tick.oiDayLow)
            appendU32(&out, tick.exchangeTimestamp)
            let depth = tick.depth ?? .empty
            appendLevels(depth.buy, to: &out)
            appendLevels(depth.sell, to: &out)
        }
    }

    /// Encodes one packet (without its length prefix).
    /// - Parameters:
    ///   - tick: The tick to encode.
    /// - Returns: The packet bytes (``KiteTick/packetLength`` of them).
    public static func encodePacket(_ tick: KiteTick) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(tick.packetLength)
        appendPacket(tick, to: &out)
        return out
    }

    /// The 1-byte heartbeat Kite sends when there is nothing else to send.
    /// - Returns: `[0]`.
    public static func encodeHeartbeat() -> [UInt8] { [0] }

    static func appendLevels(_ levels: [KiteDepthEntry], to out: inout [UInt8]) {
        for i in 0..<KiteDepth.levels {
            let level = i < levels.count ? levels[i] : KiteDepthEntry()
            appendU32(&out, level.quantity)
            appendI32(&out, level.price)
            appendU16(&out, level.orders)
            appendU16(&out, 0)
        }
    }

    @inline(__always)
    static func appendU16(_ out: inout [UInt8], _ value: UInt16) {
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    static func appendU32(_ out: inout [UInt8], _ value: UInt32) {
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    static func appendI32(_ out: inout [UInt8], _ value: Int32) {
        appendU32(&out, UInt32(bitPattern: value))
    }
}
