import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime

/// The codes of the market-data APIs' errors.
extension APIError.Code {
    static let invalidParameter = APIError.Code("invalid_parameter")
    static let missingParameter = APIError.Code("missing_parameter")
    static let rangeTooLarge = APIError.Code("range_too_large")
    static let unknownInstrument = APIError.Code("unknown_instrument")
    static let unknownSymbol = APIError.Code("unknown_symbol")
    static let unavailable = APIError.Code("unavailable")
}

extension APIError {
    /// `outcome` label of the request metrics.
    var outcome: String { status.code < 500 ? "client_error" : "error" }
}

extension APIError {
    /// Runs one endpoint's answer and counts its outcome (`ok`, the error's `outcome`, or `error`). A failure that is
    /// not a ``APIError`` (the database went away, say) is logged and answered 503 with `unavailable`; a
    /// cancelled request is neither counted nor logged.
    static func answering<Answer>(
        _ endpoint: String,
        unavailable message: String,
        logger: Logger,
        count: (String) -> Void,
        _ answer: () async throws -> Answer
    ) async throws -> Answer {
        do {
            let response = try await answer()
            count("ok")
            return response
        } catch let error as APIError {
            count(error.outcome)
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            count("error")
            // `endpoint` is a constant name per call site ("bars", ...), so the message stays one string per endpoint.
            logger.error("\(endpoint) failed", metadata: [LogKey.error: "\(error)"])
            throw APIError(.serviceUnavailable, .unavailable, message)
        }
    }
}
