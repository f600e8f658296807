import BrokerWire
import CompressNIO
import Hummingbird
import Synchronization

/// The CSV dump (and its gzip form) per exchange filter, built on first request and kept: the universe is immutable.
final class InstrumentDump: Sendable {
    struct Body: Sendable {
        let csv: ByteBuffer
        let gzip: ByteBuffer
    }

    let universe: InstrumentUniverse
    private let bodies = Mutex<[String: Body]>([:])

    init(universe: InstrumentUniverse) {
        self.universe = universe
    }

    /// The dump for one exchange (`""` for all).
    func body(exchange: String) throws -> Body {
        let key = exchange.uppercased()
        if let cached = bodies.withLock({ $0[key] }) { return cached }
        let rows = key.isEmpty ? universe.instruments : universe.instruments(exchange: key)
        let csv = ByteBuffer(bytes: KiteInstrumentCSV.write(rows))
        var input = csv
        let gzip = try input.compress(with: .gzip())
        let body = Body(csv: csv, gzip: gzip)
        bodies.withLock { $0[key] = body }
        return body
    }
}
