import BrokerWire
import Hummingbird

/// An error answered with Kite's error JSON: `{"status":"error","message":"...","data":null,"error_type":"..."}`.
struct KiteAPIError: HTTPResponseError, Sendable {
    /// Kite's `error_type` with the HTTP status it comes with.
    struct Kind: Sendable, Hashable {
        let errorType: String
        let status: HTTPResponse.Status

        /// Missing or wrong `api_key`/`access_token`.
        static let token = Kind(errorType: "TokenException", status: .forbidden)
        /// Bad parameters.
        static let input = Kind(errorType: "InputException", status: .badRequest)
        /// Rate limited.
        static let network = Kind(errorType: "NetworkException", status: .tooManyRequests)
        /// Server-side failure (also what fault injection produces).
        static let general = Kind(errorType: "GeneralException", status: .internalServerError)
    }

    let kind: Kind
    let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static let invalidCredentials = KiteAPIError(.token, "Incorrect `api_key` or `access_token`.")
    static let tooManyRequests = KiteAPIError(.network, "Too many requests")

    var status: HTTPResponse.Status { kind.status }

    /// The body Kite sends.
    var json: String {
        #"{"status":"error","message":\#(JSONText.quoted(message)),"data":null,"error_type":"\#(kind.errorType)"}"#
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: json))
        )
    }
}
