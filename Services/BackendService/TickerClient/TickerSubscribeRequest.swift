import Foundation
import Shared

/// The body of `POST /subscriptions` as the ticker reads it: the single form for one token
/// (`{"instrument_token":N,"requested_mode":..,"holder":..}`), the batch form for several
/// (`{"instruments":[{"instrument_token":N,"requested_mode":..}],"holder":..}`).
struct TickerSubscribeRequest: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var instrumentToken: Int64
        var requestedMode: String

        enum CodingKeys: String, CodingKey {
            case instrumentToken = "instrument_token"
            case requestedMode = "requested_mode"
        }
    }

    var items: [Item]
    var holder: String

    init(tokens: [Int64], mode: SubscriptionMode, holder: String) {
        items = tokens.map { Item(instrumentToken: $0, requestedMode: mode.rawValue) }
        self.holder = holder
    }

    enum CodingKeys: String, CodingKey {
        case instruments, holder
        case instrumentToken = "instrument_token"
        case requestedMode = "requested_mode"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(holder, forKey: .holder)
        if items.count == 1 {
            try container.encode(items[0].instrumentToken, forKey: .instrumentToken)
            try container.encode(items[0].requestedMode, forKey: .requestedMode)
        } else {
            try container.encode(items, forKey: .instruments)
        }
    }

    /// The body as JSON text, keys sorted.
    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
