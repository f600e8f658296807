import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime

/// Reads a typed JSON request body of the `/api/v2` endpoints: bounded in size (413 beyond it) and decoded with a 422
/// that names the field and the problem, instead of Hummingbird's generic 400.
enum JSONRequestBody {
    /// Largest body any `/api/v2` endpoint takes.
    static let maxBytes = 64 * 1024

    /// Decodes the body as `T`.
    /// - Parameters:
    ///   - type: The body type.
    ///   - request: The request.
    ///   - shape: The expected shape, for the error message (`{"user_id": string, "symbol": string}`).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, shape: String) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(maxBytes) bytes")
        }
        let data = Data(buffer.readableBytesView)
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw APIError(.badRequest, "malformed_json", "the request body must be a JSON object: \(shape)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.unprocessableContent, .invalidParameter, "\(key.stringValue) is required: \(shape)", field: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.unprocessableContent, .invalidParameter, "\(field) has the wrong type: \(shape)", field: field)
        } catch let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.unprocessableContent, .invalidParameter, "\(field) must not be null: \(shape)", field: field)
        } catch {
            throw APIError(.unprocessableContent, .invalidParameter, "the body does not match \(shape)")
        }
    }
}
