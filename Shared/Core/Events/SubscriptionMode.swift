/// The streaming mode a subscription asks for. Ordered: `ltp < quote < full`, so the mode an instrument is
/// streamed in is the highest any holder asked for.
public enum SubscriptionMode: String, Sendable, Codable, CaseIterable, Comparable {
    case ltp = "LTP"
    case quote = "QUOTE"
    case full = "FULL"

    /// Parses a mode in any case (`full`, `FULL`, `Full`).
    /// - Parameter text: The mode as a client wrote it.
    public init?(caseInsensitive text: String) {
        self.init(rawValue: text.uppercased())
    }

    private var rank: Int {
        switch self {
        case .ltp: 0
        case .quote: 1
        case .full: 2
        }
    }

    public static func < (lhs: SubscriptionMode, rhs: SubscriptionMode) -> Bool { lhs.rank < rhs.rank }
}
