import HTTPTypes
import ServiceRuntime

extension APIError {
    /// The HTTP answer for a refused or failed subscription change.
    /// - Parameter error: What the subscription manager refused or failed.
    init(_ error: SubscriptionError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .unknownInstrument, .notSubscribed, .holderNotFound, .unknownAccount: .notFound
            case .capacityExhausted, .accountUnavailable, .unplaceable: .conflict
            default: .serviceUnavailable
            }
        self.init(status, APIError.Code(error.code.name), error.message)
    }
}
