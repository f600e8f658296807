import Foundation
import HTTPTypes
import Hummingbird

/// The JSON both services answer with: sorted keys (stable for people, diffs and byte-for-byte tests), ISO-8601 dates in
/// UTC without fractions (`2025-11-20T03:45:00Z`), `/` left unescaped, `Content-Type: application/json`.
public enum APIJSON {
    /// A new encoder with the services' settings.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A response whose body is `value` as JSON.
    /// - Parameters:
    ///   - value: The body.
    ///   - status: The status of the response.
    /// - Throws: `EncodingError` when the value cannot be encoded.
    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A response body both services write with ``APIJSON``: return it from a route as it is (200), or wrapped in
/// `EditedResponse(status:response:)` for another status.
public protocol JSONResponseBody: ResponseEncodable {}

extension JSONResponseBody {
    /// The body as JSON, status 200.
    /// - Parameters:
    ///   - request: The request answered.
    ///   - context: Its context.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIJSON.response(self)
    }
}
