import Foundation
import Shared
import Testing
import TestSupport

@testable import BackendService

/// Defect 8 of issue 9: `--print-config` must print every key BackendService reads.
@Suite("BackendService configuration keys")
struct ConfigurationKeysTests {
    static let environments: [[String: String]] = [
        [:],
        ["BACKFILL_HISTORY_SOURCE": "broker", "KITE_API_KEY": "kite_key_s3cret", "KITE_ACCESS_TOKEN": "kite_token_s3cret", "TICKER_API_KEY": "ticker_s3cret"],
    ]

    @Test("every key the configuration reads is declared, and the printed keys are exactly the declared ones")
    func readKeysAreDeclared() throws {
        var declared: [String] = []
        for key in BackendConfiguration.declaredKeys.map(\.name) where !declared.contains(key) { declared.append(key) }
        for environment in Self.environments {
            let source = try ConfigSource(environment: environment, dotEnvPath: nil)
            let loaded = try BackendConfiguration.load(source: source)
            let undeclared = Set(source.keysRead.map(\.name)).subtracting(declared)
            #expect(undeclared.isEmpty, "read but not declared: \(undeclared.sorted())")
            #expect(loaded.printable.map(\.key) == declared)
        }
    }

    @Test("`BackendService --print-config` prints every declared key, secrets masked")
    func printConfigCommand() throws {
        let run = try CommandRun.run("BackendService", arguments: ["--print-config"], environment: Self.environments[1])
        let printed = run.pairs.map(\.key)
        let declared = Set(BackendConfiguration.declaredKeys.map(\.name))
        #expect(Set(printed) == declared, "missing: \(declared.subtracting(printed).sorted())")
        for key in ["KITE_API_KEY", "KITE_ACCESS_TOKEN", "BROKER_URL", "TICKER_URL", "SMART_SUBSCRIPTION_ENABLED", "SUBSCRIPTION_EVENTS_ENABLED"] {
            #expect(printed.contains(key), "\(key) is not printed")
        }
        #expect(!run.output.contains("s3cret"), "a secret was printed: \(run.output)")
    }
}
