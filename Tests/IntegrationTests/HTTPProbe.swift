import AsyncHTTPClient
import Foundation
import NIOCore

/// Minimal HTTP GET for probing the processes under test.
enum HTTPProbe {
    static func get(_ url: String) async throws -> Data {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Data(body.readableBytesView)
    }
}
