import Foundation
import Testing
import TestSupport

/// Runs the real executables, as `make run` and users do.
@Suite("Service processes")
struct StartupTests {
    @Test("a service started against an unreachable Redis exits 1 with one line naming redis and the address", arguments: [
        "TickerService", "BackendService",
    ])
    func unreachableRedis(executable: String) async throws {
        let port = Ports.freeLoopbackPort()
        let database = try await PostgresCluster.shared.createDatabase()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("startup-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(
            executable: BuiltProducts.executable(executable),
            arguments: ["--port", String(Ports.freeLoopbackPort()), "--env-file", "/nonexistent/.env"],
            environment: ServiceEnvironment.isolated(["REDIS_URL": "redis://127.0.0.1:\(port)", "DATABASE_URL": database, "LOG_LEVEL": "error"]),
            outputPath: output
        )
        #expect(await process.waitForExit(timeout: .seconds(60)))
        #expect(process.exitStatus == 1)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        let lines = text.split(separator: "\n").filter { $0.contains("cannot start") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("redis at 127.0.0.1:\(port)") == true, "got: \(text)")
    }

    @Test("a bad setting exits 1 naming the key, and never prints a secret")
    func badSetting() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("startup-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(
            executable: BuiltProducts.executable("TickerService"),
            arguments: ["--env-file", "/nonexistent/.env"],
            environment: ServiceEnvironment.isolated(["PORT": "eighty", "REDIS_URL": "redis://:topsecret@127.0.0.1:1"]),
            outputPath: output
        )
        #expect(await process.waitForExit(timeout: .seconds(30)))
        #expect(process.exitStatus == 1)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.contains("PORT"))
        #expect(!text.contains("topsecret"))
    }

    @Test("TickerService and BackendService serve /health against real Redis and PostgreSQL, and stop on SIGTERM")
    func healthyProcesses() async throws {
        let redis = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        for executable in ["TickerService", "BackendService"] {
            let port = Ports.freeLoopbackPort()
            let process = try ChildProcess(
                executable: BuiltProducts.executable(executable),
                arguments: ["--port", String(port), "--env-file", "/nonexistent/.env"],
                // Every other address (TickerService, the broker) is a closed port: the backend's first backfill cycle
                // must not find, say, a `make run` TickerService on the default port.
                environment: ServiceEnvironment.isolated(["REDIS_URL": redis.url, "DATABASE_URL": database, "LOG_LEVEL": "warning"])
            )
            var body: [String: Any]?
            for _ in 0..<150 where body == nil {
                if let data = try? await HTTPProbe.get("http://127.0.0.1:\(port)/health"),
                   let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                    body = json
                } else {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            let json = try #require(body, "\(executable) never answered /health")
            #expect(json["status"] as? String == "ok")
            let dependencies = try #require(json["dependencies"] as? [String: Any])
            #expect(dependencies["redis"] as? String == "ok")
            #expect(dependencies["database"] as? String == "ok")
            process.signal(SIGTERM)
            #expect(await process.waitForExit(timeout: .seconds(30)), "\(executable) did not stop on SIGTERM")
            #expect(process.exitStatus == 0)
        }
    }
}
