import BrokerWire
import Foundation
import Logging
import Shared
import SharedRedis

/// The underlying's latest price for choosing the at-the-money strike: the latest quote TickerService streams to Redis,
/// else the underlying's latest stored 1-minute bar, else TickerService's `/history` (the last 30 minutes, then the
/// last 10 daily candles).
struct UnderlyingPriceResolver: Sendable {
    struct Price: Sendable, Equatable {
        var instrumentToken: Int64
        var price: Double
        /// `quote`, `bars` or `history`.
        var source: String
    }

    let redis: RedisClient
    let channels: EventChannels
    let chains: OptionChainRepository
    let ticker: any SubscriptionTicker
    let logger: Logger

    /// The price, or nil when no source knows it (the reason is logged).
    func price(symbol: String) async throws -> Price? {
        let token: Int64
        do {
            guard let found = try await chains.underlyingToken(symbol: symbol) else { return nil }
            token = found
        } catch let error as CancellationError {
            throw error
        } catch {
            logger.warning("cannot look up the underlying", metadata: [LogKey.symbol: "\(symbol)", LogKey.error: "\(error)"])
            return nil
        }
        do {
            let reply = try await redis.send(["HGET", channels.latestQuoteKey(token), TickStreamEntry.Field.lastPrice])
            if let text = reply.string, let price = TickPrice(text)?.doubleValue, price > 0 {
                return Price(instrumentToken: token, price: price, source: "quote")
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            logger.debug("latest quote unavailable", metadata: [LogKey.token: "\(token)", LogKey.error: "\(error)"])
        }
        do {
            if let close = try await chains.latestClose(token: token), close > 0 { return Price(instrumentToken: token, price: close, source: "bars") }
        } catch let error as CancellationError {
            throw error
        } catch {
            logger.debug("latest bar unavailable", metadata: [LogKey.token: "\(token)", LogKey.error: "\(error)"])
        }
        let now = Date()
        for (interval, span) in [(KiteCandleInterval.minute, 1_800.0), (KiteCandleInterval.day, 10 * 86_400.0)] {
            do {
                let candles = try await ticker.history(token: token, from: now.addingTimeInterval(-span), to: now, interval: interval)
                if let last = candles.last, last.close > 0 { return Price(instrumentToken: token, price: last.close, source: "history") }
            } catch let error as CancellationError {
                throw error
            } catch {
                logger.warning("history for the underlying unavailable", metadata: [LogKey.token: "\(token)", LogKey.error: "\(error)"])
                break
            }
        }
        return nil
    }
}
