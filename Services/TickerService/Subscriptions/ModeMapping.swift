import BrokerWire
import Shared

extension SubscriptionMode {
    /// The broker's spelling of the mode.
    var kiteMode: KiteMode {
        switch self {
        case .ltp: .ltp
        case .quote: .quote
        case .full: .full
        }
    }
}
