import Foundation

/// Everything a Kite `full` tick carries for one instrument at one second.
struct MarketSnapshot: Sendable, Equatable {
    var lastPrice: Double
    var lastTradedQuantity: Int
    var averagePrice: Double
    /// Cumulative volume of the session so far.
    var volume: Int64
    var totalBuyQuantity: Int64
    var totalSellQuantity: Int64
    /// Day OHLC; `close` is the previous session's close, as Kite sends it.
    var open: Double
    var high: Double
    var low: Double
    var close: Double
    var oi: Int64
    var oiDayHigh: Int64
    var oiDayLow: Int64
    var lastTradeTime: Date
    /// Best bid first (prices falling); always 5 levels.
    var buyDepth: [DepthLevel]
    /// Best ask first (prices rising); always 5 levels.
    var sellDepth: [DepthLevel]
}

/// One level of market depth.
struct DepthLevel: Sendable, Equatable {
    var price: Double
    var quantity: Int
    var orders: Int
}
