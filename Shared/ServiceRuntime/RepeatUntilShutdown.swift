import ServiceLifecycle

/// Runs `round` at once and then every `interval`, until the task is cancelled or graceful shutdown begins; a
/// shutdown ends the wait between two rounds at once, never a round itself.
///
/// The loop of every sampling service (``DependencyMonitor``, ``StreamBacklogMonitor``, BackendService's throughput
/// history): each says only what one round does.
/// - Parameters:
///   - interval: Time from the end of one round to the start of the next.
///   - round: One round of work.
public func repeatUntilShutdown(every interval: Duration, _ round: () async -> Void) async {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        await round()
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        } catch {
            return
        }
    }
}
