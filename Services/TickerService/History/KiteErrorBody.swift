import ServiceRuntime

/// Kite's error body, which `/history` keeps so that Kite clients read it: `{"status":"error","message":..,"error_type":..}`.
struct KiteErrorBody: JSONResponseBody, Sendable {
    var status = "error"
    var message: String
    /// `InputException`, `NetworkException`.
    var errorType: String

    enum CodingKeys: String, CodingKey {
        case status, message
        case errorType = "error_type"
    }
}
