/// An exact decimal price: `units / 10^decimalPlaces` (`TickPrice(units: 2451235, decimalPlaces: 2)` is 24512.35).
///
/// Feeds send prices as scaled integers, so the tick stream writes them as decimal text made from the integer, never
/// through floating point, and reads them back the same way.
public struct TickPrice: Sendable, Hashable, CustomStringConvertible {
    /// The price in its smallest unit (paise for 2 places).
    public var units: Int64
    /// Digits after the decimal point, 0...9.
    public var decimalPlaces: Int

    /// Creates a price.
    /// - Parameters:
    ///   - units: The price in units of `10^-decimalPlaces`.
    ///   - decimalPlaces: Digits after the decimal point, 0...9.
    public init(units: Int64, decimalPlaces: Int) {
        precondition((0...9).contains(decimalPlaces), "a tick price has 0...9 decimal places")
        self.units = units
        self.decimalPlaces = decimalPlaces
    }

    /// Parses `-?digits(.digits)?` exactly, keeping as many decimal places as the text has (at most 9).
    /// - Parameters:
    ///   - text: The decimal text, e.g. `24512.35`.
    public init?(_ text: some StringProtocol) {
        // Native strings are contiguous UTF-8: parse the bytes in place (this runs for every price a consumer reads).
        let parsed = text.utf8.withContiguousStorageIfAvailable(Self.parse) ?? Array(text.utf8).withUnsafeBufferPointer(Self.parse)
        guard let parsed else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> TickPrice? {
        var units: Int64 = 0
        var places = -1
        var digits = 0
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index = 1 }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "."), places < 0, digits > 0 {
                places = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow) = units.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            guard !overflow, !overflowAdd else { return nil }
            units = sum
            digits += 1
            if places >= 0 { places += 1 }
        }
        guard digits > 0, places != 0, places <= 9 else { return nil }
        return TickPrice(units: negative ? -units : units, decimalPlaces: Swift.max(places, 0))
    }

    private static let powersOfTen: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    /// The price as a `Double`: `units / 10^decimalPlaces`, correctly rounded (the same value parsing the text gives).
    public var doubleValue: Double { Double(units) / Double(Self.powersOfTen[decimalPlaces]) }

    /// The exact decimal text, e.g. `24512.35`, `-0.05`, `0.00`; no exponent, all `decimalPlaces` digits.
    public var description: String {
        // At most 1 sign + 19 digits + 1 point: built in one buffer, no intermediate strings.
        String(unsafeUninitializedCapacity: 24) { buffer in
            var magnitude = units.magnitude
            var position = buffer.count
            func emit(_ byte: UInt8) {
                position -= 1
                buffer[position] = byte
            }
            for _ in 0..<decimalPlaces {
                emit(UInt8(ascii: "0") &+ UInt8(magnitude % 10))
                magnitude /= 10
            }
            if decimalPlaces > 0 { emit(UInt8(ascii: ".")) }
            repeat {
                emit(UInt8(ascii: "0") &+ UInt8(magnitude % 10))
                magnitude /= 10
            } while magnitude > 0
            if units < 0 { emit(UInt8(ascii: "-")) }
            let length = buffer.count - position
            if position > 0 {
                for offset in 0..<length { buffer[offset] = buffer[position + offset] }
            }
            return length
        }
    }
}
