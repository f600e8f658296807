import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Finds out why a WebSocket upgrade was refused.
///
/// hummingbird-websocket reports every refused upgrade as `webSocketUpgradeFailed` without the HTTP status, but a 403
/// (bad credentials: stop) and a 429 (too many connections: slow down) need different handling. After a refusal, one
/// plain upgrade request over AsyncHTTPClient reads the status (AsyncHTTPClient closes a connection that answers 101).
enum UpgradeProbe {
    static func status(url: String, httpClient: HTTPClient) async -> Int? {
        var target = url
        if target.hasPrefix("ws://") {
            target = "http://" + target.dropFirst(5)
        } else if target.hasPrefix("wss://") {
            target = "https://" + target.dropFirst(6)
        }
        var request = HTTPClientRequest(url: target)
        request.headers.add(name: "Upgrade", value: "websocket")
        request.headers.add(name: "Connection", value: "Upgrade")
        request.headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        request.headers.add(name: "Sec-WebSocket-Version", value: "13")
        // A second try when the first fails without an answer (seen once from AsyncHTTPClient on a fresh pool).
        for _ in 0..<2 {
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(5))
                return Int(response.status.code)
            } catch {
                continue
            }
        }
        return nil
    }
}
