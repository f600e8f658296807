import HTTPTypes
import Hummingbird

/// An error of either service's API, answered as JSON that says what was wrong:
/// `{"status":"error","error":"unknown_instrument","message":"..."}` (plus `field` when one field of the request is at
/// fault). Only the HTTP edge (controllers, middleware) creates these.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    /// Machine-readable codes, e.g. `unknown_instrument`, `invalid_parameter`; a struct so that cases can grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The code as the body's `error` writes it.
        public let name: String

        /// Creates a code.
        /// - Parameter name: The code as the body's `error` writes it, snake case.
        public init(_ name: String) {
            self.name = name
        }

        /// Creates a code from a literal, e.g. `"unauthorized"`.
        /// - Parameter value: The code's name.
        public init(stringLiteral value: String) {
            self.name = value
        }

        /// The code's name, as in the body.
        public var description: String { name }
    }

    /// The status of the answer.
    public var status: HTTPResponse.Status
    /// What kind of failure it is.
    public var code: Code
    /// What was wrong, for people.
    public var message: String
    /// The request field at fault, e.g. `metadata.requested_mode`, when one is.
    public var field: String?
    /// Headers the answer carries besides `Content-Type`, e.g. `Allow` on a 405.
    public var headers: HTTPFields

    /// Creates an error.
    /// - Parameters:
    ///   - status: The status of the answer.
    ///   - code: Its machine-readable code.
    ///   - message: What was wrong, for people.
    ///   - field: The request field at fault, if one is.
    ///   - headers: Headers the answer carries besides `Content-Type`.
    public init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    /// `404 unknown_instrument: ...`, for logs.
    public var description: String { "\(status.code) \(code): \(message)" }

    /// The body the error is answered with.
    public var body: APIErrorBody {
        APIErrorBody(error: code.name, message: message, field: field)
    }

    /// The error as JSON, with its status.
    /// - Parameters:
    ///   - request: The request answered.
    ///   - context: Its context.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try APIJSON.response(body, status: status)
        for field in headers where field.name != .contentType { response.headers.append(field) }
        return response
    }
}

/// The one error body of both services: `{"status":"error","error":CODE,"message":...[,"field":...]}`.
public struct APIErrorBody: Codable, Sendable, Equatable {
    /// Always `error`.
    public var status: String
    /// The machine-readable code.
    public var error: String
    /// What was wrong, for people.
    public var message: String
    /// The request field at fault, when one is.
    public var field: String?

    /// Creates a body.
    /// - Parameters:
    ///   - error: The machine-readable code.
    ///   - message: What was wrong.
    ///   - field: The request field at fault, if one is.
    public init(error: String, message: String, field: String? = nil) {
        self.status = "error"
        self.error = error
        self.message = message
        self.field = field
    }
}
