import ArgumentParser
import Foundation
import NIOCore
import ServiceRuntime
import Shared
import TickerAPIModel

/// `GET /subscriptions`' body at 25,000 rows, encoded in-process two ways: `JSONEncoder` (``APIJSON``, the Codable path
/// every other body takes) and the hand-written ``SubscriptionListWriter``. The writer is kept only while the encoder is
/// more than twice as slow (the verdict line says which).
struct ListEncodingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-encoding",
        abstract: "GET /subscriptions body: JSONEncoder vs SubscriptionListWriter at 25k rows (min/median)."
    )

    @Option(help: "Subscriptions in the list.")
    var rows = 25_000

    @Option(help: "Timed runs of each encoder (after one warm-up run each).")
    var runs = 9

    func run() async throws {
        let records = Self.records(rows)
        let list = SubscriptionListJSON(records)
        let encoded = try APIJSON.encoder().encode(list)
        let written = SubscriptionListWriter.body(records)
        guard Array(encoded) == Array(written.readableBytesView) else {
            throw ValidationError("the writer and JSONEncoder disagree; fix SubscriptionListWriter first")
        }

        var encoder = LatencySample()
        var writer = LatencySample()
        for run in 0...runs {
            // Alternate, so neither always runs on a warmer heap.
            let encoderTime = try Self.time { _ = try APIJSON.encoder().encode(list) }
            let writerTime = Self.time { _ = SubscriptionListWriter.body(records) }
            guard run > 0 else { continue }
            encoder.add(encoderTime)
            writer.add(writerTime)
        }
        let ratio = encoder.percentile(50) / writer.percentile(50)
        print("GET /subscriptions body, \(rows) rows, \(encoded.count / 1024) KiB, \(runs) runs each:")
        print(String(format: "  JSONEncoder:            min %7.1f ms, median %7.1f ms", encoder.fastest * 1000, encoder.percentile(50) * 1000))
        print(String(format: "  SubscriptionListWriter: min %7.1f ms, median %7.1f ms", writer.fastest * 1000, writer.percentile(50) * 1000))
        print(String(format: "  JSONEncoder / writer (median): %.2fx: %@", ratio, ratio > 2 ? "keep the writer" : "use JSONEncoder, drop the writer"))
    }

    private static func time(_ body: () throws -> Void) rethrows -> Duration {
        let start = ContinuousClock.now
        try body()
        return ContinuousClock.now - start
    }

    /// Rows shaped like the real ones: NFO options on three accounts, one to three holders each.
    static func records(_ count: Int) -> [SubscriptionRecord] {
        let modes: [SubscriptionMode] = [.ltp, .quote, .full]
        return (0..<count).map { index in
            let created = Date(timeIntervalSince1970: 1_763_610_300 + Double(index))
            let holders = (0...(index % 3)).map {
                SubscriptionHolder(holder: $0 == 0 ? "api" : "user:\(index % 997 + $0)", mode: modes[(index + $0) % 3])
            }
            return SubscriptionRecord(
                instrumentToken: Int64(10_000_000 + index), tradingsymbol: "NIFTY25NOV\(20_000 + index % 400 * 50)\(index % 2 == 0 ? "CE" : "PE")",
                segment: "NFO-OPT", exchange: "NFO", mode: holders.map(\.mode).max() ?? .full, status: .active,
                accountID: "account-\(index % 3)", connectionID: index % 9, holders: holders,
                createdAt: created, updatedAt: created.addingTimeInterval(3_600.25)
            )
        }
    }
}

extension LatencySample {
    /// The fastest run.
    var fastest: Double { values.min() ?? .nan }
}
