import Foundation
import Shared

/// Runs a service's startup and, when it fails for a reason a user can fix (a bad setting, an unreachable
/// dependency), prints one line `SERVICE: cannot start: REASON` to standard error and exits with status 1.
/// - Parameters:
///   - service: The service name that starts the line.
///   - body: The startup and run.
public func exitOnStartupFailure(service: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as StartupError {
        fail(service, error.description)
    } catch let error as ConfigError {
        fail(service, error.description)
    }
}

private func fail(_ service: String, _ reason: String) -> Never {
    FileHandle.standardError.write(Data("\(service): cannot start: \(reason)\n".utf8))
    exit(1)
}
