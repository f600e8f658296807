import AsyncHTTPClient
import Foundation
import Synchronization

/// A second (third, …) process of one component, beside the platform's main one: same stores, same prefix, same
/// addresses of the other services, its own port and log. How a test runs several BackendService instances.
public struct Replica: Sendable {
    public let component: Platform.Component
    public let name: String
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { process.pid }
    let process: ChildProcess
}

extension Platform {
    /// Starts another process of `component` and waits until it answers `/health`.
    /// - Parameters:
    ///   - name: Unique among this platform's replicas; names the log (`BackendService-<name>.log`).
    ///   - environment: Settings on top of the platform's environment for the component.
    public func startReplica(_ component: Component, name: String, environment extra: [String: String] = [:]) async throws -> Replica {
        guard replicas.withLock({ $0[name] == nil }) else { throw PlatformError("a replica named \(name) is running") }
        var environment = environment(for: component)
        environment.merge(extra) { _, new in new }
        let port = Ports.freeLoopbackPort()
        let process = try await launch(component, port: port, logPath: replicaLogPath(component, name: name), environment: environment)
        let replica = Replica(component: component, name: name, port: port, process: process)
        replicas.withLock { $0[name] = replica }
        return replica
    }

    /// Stops a replica with SIGTERM, or SIGKILL when `crash`.
    public func stopReplica(_ replica: Replica, crash: Bool = false) async {
        guard replicas.withLock({ $0.removeValue(forKey: replica.name) }) != nil else { return }
        if crash { await replica.process.kill() } else { await replica.process.terminate(grace: .seconds(20)) }
    }

    public func replicaLogPath(_ component: Component, name: String) -> String { "\(logDirectory)/\(component.rawValue)-\(name).log" }

    /// A replica's log, for failure messages.
    public func log(_ replica: Replica) -> String {
        (try? String(contentsOfFile: replicaLogPath(replica.component, name: replica.name), encoding: .utf8)) ?? ""
    }

    public func get(_ replica: Replica, _ path: String) async throws -> Reply {
        try await send(HTTPClientRequest(url: replica.url + path))
    }
}
