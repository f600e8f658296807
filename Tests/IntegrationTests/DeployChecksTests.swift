import Foundation
import Testing
import TestSupport

/// The deploy files (`deploy/`) checked the way an operator's tools read them: promtool on the Prometheus
/// configuration and alert rules (with the rules' unit tests), `docker-compose config`, yamllint and the Dockerfile and
/// secret rules of `scripts/test/check-deploy.py`, and a real Prometheus scraping the three services.
@Suite("Deploy files")
struct DeployChecksTests {
    private static let prometheusDirectory = OpenAPISpec.root.appendingPathComponent("deploy/prometheus")

    private static func promtool(_ arguments: [String]) throws -> Command.Outcome {
        try Command.run(Command.required("promtool", package: "prometheus"), arguments, workingDirectory: prometheusDirectory)
    }

    @Test("promtool accepts the scrape configuration and the alert rules")
    func promtoolChecks() throws {
        let config = try Self.promtool(["check", "config", "prometheus.yml"])
        #expect(config.status == 0, "\(config.output)")
        let rules = try Self.promtool(["check", "rules", "alerts.yml"])
        #expect(rules.status == 0, "\(rules.output)")
    }

    @Test("every alert fires and stays silent where alerts.test.yml says (promtool test rules)")
    func alertUnitTests() throws {
        let outcome = try Self.promtool(["test", "rules", "alerts.test.yml"])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("SUCCESS"))
    }

    @Test("compose file, env examples, YAML, Dockerfile, secrets and runbook links pass scripts/test/check-deploy.py")
    func deployChecker() throws {
        _ = try Command.required("docker-compose", package: "docker-compose")
        _ = try Command.required("yamllint", package: "yamllint")
        let python = Command.venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PlatformError("no \(python): run `make venv`")
        }
        let outcome = try Command.run(python, ["scripts/test/check-deploy.py"])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("check-deploy: 0 problem(s)"), "\(outcome.output)")
    }

    @Test("a real Prometheus with deploy/prometheus's rules scrapes all three services as up and evaluates every rule")
    func prometheusScrapesTheStack() async throws {
        let binary = try Command.required("prometheus", package: "prometheus")
        try await Platform.with { platform in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // The shipped configuration with the compose targets swapped for this platform's ports, as `make run` does.
            var config = try String(contentsOf: Self.prometheusDirectory.appendingPathComponent("prometheus.yml"), encoding: .utf8)
            for (target, component) in [("ticker-service:8080", Platform.Component.ticker), ("backend-service:8081", .backend),
                                        ("broker-simulator:8090", .simulator)] {
                #expect(config.contains(target), "prometheus.yml no longer names \(target)")
                config = config.replacingOccurrences(of: target, with: "127.0.0.1:\(platform.port(component))")
            }
            config = config.replacingOccurrences(of: "scrape_interval: 15s", with: "scrape_interval: 1s")
                .replacingOccurrences(of: "evaluation_interval: 15s", with: "evaluation_interval: 1s")
            try config.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(at: Self.prometheusDirectory.appendingPathComponent("alerts.yml"),
                                             to: directory.appendingPathComponent("alerts.yml"))

            let port = Ports.freeLoopbackPort()
            let process = try ChildProcess(
                executable: binary,
                arguments: ["--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
                            "--web.listen-address=127.0.0.1:\(port)"],
                outputPath: platform.logDirectory + "/prometheus.log"
            )
            defer { process.stopNow() }
            let api = "http://127.0.0.1:\(port)/api/v1"

            var jobs: [String: String] = [:]
            try await waitUntil("Prometheus reports the three services up", timeout: .seconds(90), every: .milliseconds(500)) {
                guard let data = try? await HTTPProbe.get(api + "/targets"),
                      let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let targets = (body["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]] else { return false }
                jobs = [:]
                for target in targets {
                    if let job = (target["labels"] as? [String: Any])?["job"] as? String { jobs[job] = target["health"] as? String }
                }
                return jobs.count == 3 && jobs.values.allSatisfy { $0 == "up" }
            }
            #expect(jobs == ["ticker-service": "up", "backend-service": "up", "broker-simulator": "up"])

            // Every rule was evaluated against the real metrics without an error.
            let ruleFile = try String(contentsOf: Self.prometheusDirectory.appendingPathComponent("alerts.yml"), encoding: .utf8)
            let declared = ruleFile.split(separator: "\n").filter { $0.contains("- alert: ") }.count
            var health: [String: String] = [:]
            try await waitUntil("Prometheus evaluated every rule", timeout: .seconds(60), every: .milliseconds(500)) {
                guard let data = try? await HTTPProbe.get(api + "/rules"),
                      let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let groups = (body["data"] as? [String: Any])?["groups"] as? [[String: Any]] else { return false }
                health = [:]
                for group in groups {
                    for rule in group["rules"] as? [[String: Any]] ?? [] {
                        if let name = rule["name"] as? String { health[name] = rule["health"] as? String }
                    }
                }
                return health.count == declared && health.values.allSatisfy { $0 != "unknown" }
            }
            #expect(health.count == declared)
            #expect(health.filter { $0.value != "ok" }.isEmpty, "rules that failed to evaluate: \(health)")

            // The series the availability and backlog rules read are really exported: both services' dependencies up,
            // and BackendService's consumer groups sampled.
            func series(_ query: String) async -> [(labels: [String: String], value: String)] {
                guard let data = try? await HTTPProbe.get(api + "/query?query=" + query),
                      let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let result = (body["data"] as? [String: Any])?["result"] as? [[String: Any]] else { return [] }
                return result.map { (($0["metric"] as? [String: String]) ?? [:], (($0["value"] as? [Any])?.last as? String) ?? "") }
            }
            var dependencies: [String] = []
            try await waitUntil("dependency_up is scraped from both services", timeout: .seconds(60), every: .milliseconds(500)) {
                dependencies = await series("dependency_up").map { "\($0.labels["job"] ?? "")/\($0.labels["dependency"] ?? "")=\($0.value)" }.sorted()
                return dependencies.count == 4
            }
            #expect(dependencies == ["backend-service/database=1", "backend-service/redis=1", "ticker-service/database=1", "ticker-service/redis=1"])
            var groups: [String] = []
            try await waitUntil("stream_group_pending is scraped for BackendService's groups", timeout: .seconds(60), every: .milliseconds(500)) {
                groups = await series("stream_group_pending").compactMap { $0.labels["stream"] }.sorted()
                return groups.count == 3
            }
            #expect(groups == ["\(platform.prefix):events", "\(platform.prefix):feed-gaps", "\(platform.prefix):ticks"])
        }
    }
}
