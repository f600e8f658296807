import Foundation
import Hummingbird

/// JSON bodies of the market-data APIs: built as dictionaries (field order is irrelevant, nulls are explicit) and
/// encoded with sorted keys.
enum MarketJSON {
    static func response(_ object: [String: Any], status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// ISO-8601 in UTC, e.g. `2025-11-20T03:45:00Z`.
    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    static func bar(_ bar: StoredBar) -> [String: Any] {
        [
            "time": time(bar.time), "open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close,
            "volume": bar.volume, "oi": bar.oi, "source": bar.source,
        ]
    }
}
