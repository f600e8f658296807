import Foundation
import Shared
import Testing
import TestSupport

@testable import TickerService

/// Defect 8 of issue 9: `print-config` left out `KITE_*`, `FEED_*`, `BROKER_WS_URL` and `TICKS_*`.
@Suite("TickerService configuration keys")
struct ConfigurationKeysTests {
    /// Sources that take the configuration's different branches (simulator default, one Kite account, API key on).
    static let environments: [[String: String]] = [
        [:],
        ["KITE_API_KEY": "kite_key_s3cret", "KITE_ACCESS_TOKEN": "kite_token_s3cret", "API_KEY_ENABLED": "true", "API_KEY": "api_key_s3cret"],
        ["FEED_STALE_SECONDS": "2.5", "TICKS_BUFFER_FRAMES": "64", "BROKER_WS_URL": "ws://user:ws_s3cret@127.0.0.1:1"],
    ]

    @Test("every key the configuration reads is declared, and the printed keys are exactly the declared ones")
    func readKeysAreDeclared() throws {
        let declared = TickerConfiguration.declaredKeys.map(\.name)
        #expect(Set(declared).count == declared.count, "a key is declared twice")
        for environment in Self.environments {
            let source = try ConfigSource(environment: environment, dotEnvPath: nil)
            let loaded = try TickerConfiguration.load(source: source)
            let undeclared = Set(source.keysRead.map(\.name)).subtracting(declared)
            #expect(undeclared.isEmpty, "read but not declared: \(undeclared.sorted())")
            #expect(loaded.printable.map(\.key) == declared)
        }
    }

    @Test("`TickerService print-config` prints every declared key (KITE_*, FEED_*, BROKER_WS_URL, TICKS_*), secrets masked")
    func printConfigCommand() throws {
        var environment = Self.environments[1]
        environment["BROKER_WS_URL"] = "ws://user:ws_s3cret@127.0.0.1:1"
        environment["FEED_RECONNECT_MAX_SECONDS"] = "7"
        let run = try CommandRun.run("TickerService", arguments: ["print-config"], environment: environment)
        let printed = run.pairs.map(\.key)
        #expect(Set(printed) == Set(TickerConfiguration.declaredKeys.map(\.name)), "missing: \(Set(TickerConfiguration.declaredKeys.map(\.name)).subtracting(printed).sorted())")
        for key in ["KITE_API_KEY", "KITE_ACCESS_TOKEN", "BROKER_WS_URL", "FEED_STALE_SECONDS", "FEED_RECONNECT_BASE_SECONDS", "TICKS_STREAM_MAXLEN", "TICKS_BUFFER_FRAMES"] {
            #expect(printed.contains(key), "\(key) is not printed")
        }
        #expect(!run.output.contains("s3cret"), "a secret was printed: \(run.output)")
        let values = Dictionary(run.pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(values["KITE_ACCESS_TOKEN"] == "***")
        #expect(values["FEED_RECONNECT_MAX_SECONDS"] == "7")
        #expect(values["FEED_STALE_SECONDS"] == "10")
        #expect(values["TICKS_STREAM_MAXLEN"] == "200000")
    }
}
