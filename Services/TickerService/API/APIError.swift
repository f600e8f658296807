import HTTPTypes
import Foundation
import Hummingbird

/// An error answered as JSON that says what was wrong: `{"error":"unknown_instrument","message":"..."}`.
/// Only the HTTP edge (controllers, middleware) creates these.
struct APIError: HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    /// Machine-readable code, e.g. `unknown_instrument`, `invalid_mode`, `malformed_json`.
    var code: String
    /// What was wrong, for people.
    var message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var description: String { "\(status.code) \(code): \(message)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": code, "message": message], options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"internal_error"}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension APIError {
    /// The HTTP answer for a refused or failed subscription change.
    init(_ error: SubscriptionError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .unknownInstrument, .notSubscribed, .holderNotFound: .notFound
            case .capacityExhausted: .conflict
            default: .serviceUnavailable
            }
        self.init(status, error.code.name, error.message)
    }
}
