import Foundation
import Testing
import TestSupport

/// BackendService's status page against the running platform: its data as JSON, and the page itself in a real
/// headless Chromium (scripts/test/status-page.py), which saves a screenshot to `.build/status-page.png`.
@Suite("Status page")
struct StatusPageTests {
    @Test("the page shows the streaming connection, live numbers, and a subscription count that follows a subscribe")
    func statusPageInABrowser() async throws {
        let python = Command.venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else { throw PlatformError("no \(python): run `make venv`") }
        _ = try Command.required("chromium", package: "chromium")
        _ = try Command.required("chromedriver", package: "chromium-driver")
        try await Platform.with { platform in
            let options = try await platform.niftyOptions(2)
            try #require(options.count == 2)

            // The page's data, as JSON: nothing subscribed yet, every dependency up, both consumer groups sampled.
            let data = try await platform.get(.backend, "/status/data").json()
            #expect((data["dependencies"] as? [String: String]) == ["redis": "ok", "database": "ok"])
            let ticker = try #require(data["ticker"] as? [String: Any])
            #expect(ticker["reachable"] as? Bool == true)
            #expect(((ticker["health"] as? [String: Any])?["ticker"] as? [String: Any])?["active_subscriptions"] as? Int == 0)
            #expect((data["streams"] as? [[String: Any]])?.compactMap { $0["group"] as? String }.sorted() == ["backend", "backend-bars", "backend-repair"])
            #expect(data["outbox_pending"] as? Int == 0)

            let page = try await platform.get(.backend, "/status")
            #expect(page.statusCode == 200)
            #expect(page.text.contains("<canvas id=\"ticks-plot\""))
            #expect(!page.text.contains("http://") && !page.text.contains("https://"), "the page must load nothing from elsewhere")

            let screenshot = OpenAPISpec.root.appendingPathComponent(".build/status-page.png").path
            let outcome = try Command.run(python, [
                "scripts/test/status-page.py", platform.url(.backend), platform.url(.ticker),
                String(options[0].instrumentToken), String(options[1].instrumentToken), screenshot,
            ])
            #expect(outcome.status == 0, "\(outcome.output)")
            #expect(outcome.output.contains("subscriptions before: 1"), "\(outcome.output)")
            #expect(outcome.output.contains("subscriptions after: 2"), "\(outcome.output)")
            #expect(outcome.output.contains("banner shown: False"), "\(outcome.output)")
            #expect(FileManager.default.fileExists(atPath: screenshot))
        }
    }
}
