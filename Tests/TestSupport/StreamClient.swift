import Foundation
import HummingbirdWSClient
import Logging
import Synchronization

/// A terminal's WebSocket client on `GET /api/v2/stream`: what it sends and every JSON message it received.
public final class StreamClient: Sendable {
    /// The text messages as received.
    public final class Inbox: Sendable {
        let texts = Mutex<[String]>([])
    }

    private let inbox = Inbox()
    private let outgoing: AsyncStream<String>.Continuation
    private let task: Task<String?, Never>

    /// Connects and keeps reading until `close()`; `closeCode` gives how the server closed it.
    public init(url: String) {
        let (commands, continuation) = AsyncStream<String>.makeStream()
        outgoing = continuation
        let inbox = self.inbox
        task = Task {
            do {
                let frame = try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 24), logger: Logger(label: "test.stream-client")) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { for await command in commands { try await outbound.write(.text(command)) } }
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 24) {
                                guard case .text(let text) = message else { continue }
                                inbox.texts.withLock { $0.append(text) }
                            }
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                }
                return frame.map { "\($0.closeCode)" }
            } catch {
                return "failed: \(error)"
            }
        }
    }

    public func send(_ json: String) { outgoing.yield(json) }
    public func close() { outgoing.finish() }
    /// How the connection ended (waits for it).
    public var ending: String? { get async { await task.value } }
    public var messages: [[String: Any]] {
        inbox.texts.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
    public func messages(type: String) -> [[String: Any]] { messages.filter { $0["type"] as? String == type } }
    /// The tokens of every quote received.
    public var quotedTokens: Set<Int64> {
        Set(messages(type: "quotes").flatMap { ($0["quotes"] as? [[String: Any]]) ?? [] }.compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
    }

    /// A WebSocket client that subscribes and then never reads (its receive buffer is 4 KB), in Python's
    /// `websocket-client` (run it with the venv's python: `-c stalledScript URL SUBSCRIBE_JSON`), so the server's socket
    /// to it fills up.
    public static let stalledScript = """
        import socket, sys, time, websocket
        ws = websocket.create_connection(sys.argv[1], sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        ws.send(sys.argv[2])
        print("subscribed", flush=True)
        time.sleep(600)
        """
}
