/// Why a history request failed; the controller maps codes to HTTP statuses.
struct HistoryError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// The request's parameters are wrong (400).
        static let invalidRequest = Code("invalidRequest")
        /// The broker refused the parameters (400, with its message).
        static let rejectedByBroker = Code("rejectedByBroker")
        /// The broker kept failing or could not be reached (502).
        static let upstreamFailed = Code("upstreamFailed")
        /// The interactive share of the broker budget is booked further ahead than a client should wait (429).
        static let busy = Code("busy")
        var description: String { name }
    }

    var code: Code
    var message: String
    /// For ``Code/busy``: when a retry could get a slot.
    var retryAfter: Duration? = nil
    var description: String { message }
}
