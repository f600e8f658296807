import BrokerWire
import Hummingbird

/// An error answered with Dhan's error JSON, `{"errorType":"..","errorCode":"DH-9xx","errorMessage":".."}`.
struct DhanAPIError: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let body: DhanAPIErrorBody

    init(_ status: HTTPResponse.Status, _ type: String, _ code: String, _ message: String) {
        self.status = status
        self.body = DhanAPIErrorBody(errorType: type, errorCode: code, errorMessage: message)
    }

    static let invalidAuthentication = DhanAPIError(
        .unauthorized, "Invalid_Authentication", DhanAPIErrorBody.invalidAuthentication, "Client ID or user generated access token is invalid or expired."
    )
    static let rateLimited = DhanAPIError(
        .tooManyRequests, "Rate_Limit", DhanAPIErrorBody.rateLimit, "Too many requests on server from single user breaching rate limits. Try throttling API calls."
    )

    /// DH-905: a missing or bad parameter.
    static func input(_ message: String) -> DhanAPIError {
        DhanAPIError(.badRequest, "Input_Exception", DhanAPIErrorBody.inputException, message)
    }

    /// DH-907: no data for the parameters (an unknown security).
    static func data(_ message: String) -> DhanAPIError {
        DhanAPIError(.badRequest, "Data_Error", DhanAPIErrorBody.dataError, message)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body.jsonText())))
    }
}
