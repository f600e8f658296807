import Foundation
import Testing
import TestSupport

/// Schemathesis against both OpenAPI specs (docs/openapi), on the running platform with the API key on: every check it
/// has (`--checks all`: no 5xx, status codes, content types, headers and bodies as the spec says, request validation,
/// and that operations which declare the key refuse requests without it). The seed makes a failure reproducible by hand
/// (docs/operations.md, "Spec conformance").
@Suite("API conformance (Schemathesis)")
struct APIConformanceTests {
    static let apiKey = "conformance-key-7f3a"
    static let seed = "20261202"

    @Test("both services answer every generated request as their spec says")
    func schemathesis() async throws {
        let st = Command.venv + "/bin/st"
        guard FileManager.default.isExecutableFile(atPath: st) else { throw PlatformError("no \(st): run `make venv`") }
        let keyed = ["API_KEY_ENABLED": "true", "API_KEY": Self.apiKey]
        try await Platform.with(environment: [.ticker: keyed, .backend: keyed.merging(["TICKER_API_KEY": Self.apiKey]) { $1 }]) { platform in
            for (spec, component) in [("docs/openapi/ticker-service.yaml", Platform.Component.ticker), ("docs/openapi/backend-service.yaml", .backend)] {
                let outcome = try Command.run(st, [
                    "--no-color", "--config-file", "scripts/test/schemathesis.toml", "run", spec,
                    "--url", platform.url(component),
                    "-H", "X-API-Key: \(Self.apiKey)",
                    "--checks", "all",
                    "--max-examples", "25",
                    "--seed", Self.seed,
                    "--workers", "1",
                    // A WebSocket: plain generated GETs can only get its 426; QuoteStreamTests drives it with a real client.
                    "--exclude-path", "/api/v2/stream",
                ], environment: ["SCHEMATHESIS_TELEMETRY": "false"])
                // The failures section first (a long generated body can push it out of a plain tail).
                let report = outcome.output.range(of: "FAILURES").map { String(outcome.output[$0.lowerBound...].prefix(6000)) } ?? String(outcome.output.suffix(6000))
                #expect(outcome.status == 0, "Schemathesis found failures in \(spec):\n\(report)")
                #expect(outcome.output.contains("passed"), "\(outcome.output.suffix(2000))")
                #expect(platform.log(component).contains("Fatal error") == false)
                // Still answering afterwards: a service that fell over during the run would fail here.
                let health = try await platform.get(component, "/health")
                #expect(health.statusCode == 200, "\(component.rawValue) after the run: \(health.statusCode) \(health.text.prefix(500))")
                #expect(platform.pid(component).map { kill($0, 0) == 0 } == true, "\(component.rawValue) is no longer running")
            }
        }
    }
}
