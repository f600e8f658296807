import NIOCore
import NIOPosix
import Synchronization

/// Bounds one WebSocket opening handshake, and lets cancellation end it.
///
/// swift-websocket's `WebSocketClient.connect` has no handshake timeout and does not react to task cancellation until
/// the upgrade has completed. A broker (or a load balancer in front of it) that accepts the TCP connection but never
/// answers the upgrade would keep the connection `connecting` forever, and a shutdown would wait for it. So each
/// attempt runs on an event loop group of its own; abandoning the handshake (the timeout passed, or the task was
/// cancelled before the socket opened) shuts that group down, which closes the socket and makes `connect` throw.
final class WebSocketHandshake: Sendable {
    private enum Phase {
        case connecting, open, abandoned, finished
    }

    /// The event loop the attempt runs on (one thread, shut down when the attempt ends).
    let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let phase = Mutex(Phase.connecting)

    /// Runs `connect` on ``eventLoopGroup``; abandons the handshake when it has not called ``opened()`` within `timeout`
    /// or when the task is cancelled first.
    func run<T>(timeout: Duration, _ connect: (any EventLoopGroup) async throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { self.abandon() }
                }
                let result: Result<T, any Error>
                do {
                    result = .success(try await connect(eventLoopGroup))
                } catch {
                    result = .failure(error)
                }
                group.cancelAll()
                finish()
                return try result.get()
            }
        } onCancel: {
            abandon()
        }
    }

    /// Called by the connection handler once the socket is open: true when the handshake finished in time (false when
    /// it was abandoned meanwhile; the handler should then return at once).
    func opened() -> Bool {
        phase.withLock { phase in
            if case .connecting = phase { phase = .open }
            if case .open = phase { return true }
            return false
        }
    }

    /// Whether the handshake was abandoned (timed out or cancelled before the socket opened).
    var wasAbandoned: Bool {
        phase.withLock { if case .abandoned = $0 { true } else { false } }
    }

    private func abandon() {
        let shutDown = phase.withLock { phase -> Bool in
            guard case .connecting = phase else { return false }
            phase = .abandoned
            return true
        }
        if shutDown { eventLoopGroup.shutdownGracefully { _ in } }
    }

    private func finish() {
        let shutDown = phase.withLock { phase -> Bool in
            switch phase {
            case .abandoned, .finished:
                return false
            case .connecting, .open:
                phase = .finished
                return true
            }
        }
        if shutDown { eventLoopGroup.shutdownGracefully { _ in } }
    }
}
