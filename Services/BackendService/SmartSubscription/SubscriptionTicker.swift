import BrokerWire
import Foundation
import Shared

/// What smart subscription needs from TickerService; ``TickerClient`` is the production implementation.
protocol SubscriptionTicker: Sendable {
    func activeSubscriptions() async throws -> [TickerSubscriptionSummary]
    func subscribe(_ tokens: [Int64], mode: SubscriptionMode, holder: String) async throws -> TickerSubscribeOutcome
    func history(token: Int64, from: Date, to: Date, interval: KiteCandleInterval) async throws -> [KiteCandle]
}

extension TickerClient: SubscriptionTicker {}
