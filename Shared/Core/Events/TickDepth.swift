/// Market depth of a tick entry (`d`): `{"b":[[price,quantity,orders],...],"s":[[price,quantity,orders],...]}`,
/// best level first, prices as exact JSON numbers.
public struct TickDepth: Sendable, Hashable {
    /// One price level.
    public struct Level: Sendable, Hashable {
        /// The level's price.
        public var price: TickPrice
        /// Quantity at the price.
        public var quantity: Int64
        /// Number of orders at the price.
        public var orders: Int64

        /// Creates a level.
        /// - Parameters:
        ///   - price: The level's price.
        ///   - quantity: Quantity at the price.
        ///   - orders: Number of orders at the price.
        public init(price: TickPrice, quantity: Int64, orders: Int64) {
            self.price = price
            self.quantity = quantity
            self.orders = orders
        }
    }

    /// Bids, best (highest) first.
    public var buy: [Level]
    /// Offers, best (lowest) first.
    public var sell: [Level]

    /// Creates depth.
    /// - Parameters:
    ///   - buy: Bids, best first.
    ///   - sell: Offers, best first.
    public init(buy: [Level], sell: [Level]) {
        self.buy = buy
        self.sell = sell
    }

    /// The `d` field's text.
    public var json: String {
        var out = "{\"b\":["
        out.reserveCapacity(200)
        func side(_ levels: [Level]) {
            for (index, level) in levels.enumerated() {
                if index > 0 { out += "," }
                out += "["
                out += level.price.description
                out += ","
                out += String(level.quantity)
                out += ","
                out += String(level.orders)
                out += "]"
            }
        }
        side(buy)
        out += "],\"s\":["
        side(sell)
        out += "]}"
        return out
    }

    /// Reads the `d` field's text as ``json`` writes it (whitespace allowed between tokens).
    /// - Parameters:
    ///   - json: The field's text.
    public init?(json: String) {
        var reader = DepthReader(bytes: Array(json.utf8))
        guard let depth = reader.depth() else { return nil }
        self = depth
    }
}

/// A reader of exactly the depth object's grammar; anything else is rejected.
private struct DepthReader {
    let bytes: [UInt8]
    var index = 0

    mutating func depth() -> TickDepth? {
        guard expect("{") else { return nil }
        var buy: [TickDepth.Level]?
        var sell: [TickDepth.Level]?
        repeat {
            guard expect("\""), let key = word(), expect("\""), expect(":"), let levels = levels() else { return nil }
            switch key {
            case "b" where buy == nil: buy = levels
            case "s" where sell == nil: sell = levels
            default: return nil
            }
        } while expect(",")
        guard expect("}"), let buy, let sell else { return nil }
        skipSpaces()
        guard index == bytes.count else { return nil }
        return TickDepth(buy: buy, sell: sell)
    }

    private mutating func levels() -> [TickDepth.Level]? {
        guard expect("[") else { return nil }
        var out: [TickDepth.Level] = []
        if expect("]") { return out }
        repeat {
            guard expect("["), let price = number().flatMap(TickPrice.init), expect(","),
                  let quantity = number().flatMap({ Int64($0) }), expect(","),
                  let orders = number().flatMap({ Int64($0) }), expect("]")
            else { return nil }
            out.append(TickDepth.Level(price: price, quantity: quantity, orders: orders))
        } while expect(",")
        return expect("]") ? out : nil
    }

    private mutating func word() -> String? {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "a"), bytes[index] <= UInt8(ascii: "z") { index += 1 }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    private mutating func number() -> String? {
        skipSpaces()
        let start = index
        while index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: ".")
            || (bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")) {
            index += 1
        }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    private mutating func expect(_ character: Unicode.Scalar) -> Bool {
        skipSpaces()
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    private mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\n") { index += 1 }
    }
}
