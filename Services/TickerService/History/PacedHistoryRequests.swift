import Logging
import SharedBasics

/// How a history request is retried; the same for every broker.
struct HistoryRetryPolicy: Sendable {
    /// Attempts per request after 429s.
    var rateLimitedAttempts = 6
    /// Attempts per request after 5xx or network errors.
    var failureAttempts = 3
    /// Pause after a 429 before that account is used again.
    var rateLimitedPause: Duration = .seconds(1)
    /// Ceiling of the first retry delay after a 5xx (capped exponential backoff with full jitter, at most 8×).
    var failureBaseDelay: Duration = .milliseconds(200)
    /// An interactive request whose slot is further away than this is refused (429) instead of queued.
    var maxInteractiveWait: Duration = .seconds(20)
}

/// What one broker request came to, as a broker's client reads its answer.
enum HistoryAttempt<Answer: Sendable>: Sendable {
    /// The broker answered with candles.
    case answered(Answer)
    /// The broker said "too many requests" (Kite 429, Dhan 429/DH-904): pause the account and retry.
    case rateLimited
    /// The broker refused the account's credentials (Kite 401/403, Dhan DH-901..903): not retried.
    case credentialsRefused(String)
    /// The broker refused the parameters (a 4xx with its message): not retried.
    case rejected(String)
    /// A 5xx, a network error or an unreadable answer: retried a few times.
    case failed(String)
}

/// Sends one broker history request over a broker's accounts: paced per account by a ``HistoryPacer`` (with backfill's
/// share), retried after rate limits (after a pause) and failures (with capped, jittered backoff) by the
/// ``HistoryRetryPolicy``. Each broker's client says how to send and read one attempt.
struct PacedHistoryRequests: Sendable {
    let accounts: [BrokerAccount]
    let pacer: HistoryPacer
    let policy: HistoryRetryPolicy
    let logger: Logger

    /// Runs attempts until one is answered or the policy gives up.
    /// - Parameters:
    ///   - purpose: Which share of the pacing the request may use.
    ///   - attempt: Sends the request on an account with its current credentials and reads the answer.
    func send<Answer: Sendable>(
        purpose: HistoryPacer.Purpose, attempt: (BrokerAccount, BrokerCredentials) async -> HistoryAttempt<Answer>
    ) async throws(HistoryError) -> Answer {
        guard !accounts.isEmpty else { throw HistoryError(code: .upstreamFailed, message: "no broker account is configured") }
        var rateLimited = 0
        var failures = 0
        let ids = accounts.map(\.id)
        while true {
            if purpose == .interactive {
                let waits = await ids.asyncMap { id in await pacer.nextSlot(account: id, purpose: purpose) }
                let wait = (waits.min() ?? .now) - .now
                if wait > policy.maxInteractiveWait {
                    throw HistoryError(
                        code: .busy, message: "the broker's request budget for interactive history is booked for the next \(Int(wait.wholeMilliseconds / 1000)) s; retry later",
                        retryAfter: wait
                    )
                }
            }
            let (accountID, slot) = await pacer.reserve(accounts: ids, purpose: purpose)
            let account = accounts.first { $0.id == accountID }!
            do {
                try await Task.sleep(until: slot, clock: .continuous)
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "cancelled")
            }
            let credentials: BrokerCredentials
            do {
                credentials = try account.loadCredentials()
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "account \(account.id): \(error.message)")
            }
            let problem: String
            switch await attempt(account, credentials) {
            case .answered(let answer):
                return answer
            case .rateLimited:
                rateLimited += 1
                FeedMetrics.rateLimited(account: account.id, api: "historical")
                await pacer.penalize(account.id, for: policy.rateLimitedPause)
                logger.warning("broker rate-limited a historical request; retrying", metadata: ["account": "\(account.id)", "attempt": "\(rateLimited)"])
                if rateLimited >= policy.rateLimitedAttempts {
                    throw HistoryError(code: .upstreamFailed, message: "the broker kept answering 429 (rate limited) after \(rateLimited) attempts")
                }
                continue
            case .credentialsRefused(let message):
                logger.error("broker refused the account's credentials for historical data", metadata: ["account": "\(account.id)"])
                throw HistoryError(code: .upstreamFailed, message: "the broker refused account \(account.id)'s credentials: \(message)")
            case .rejected(let message):
                throw HistoryError(code: .rejectedByBroker, message: message)
            case .failed(let message):
                problem = message
                failures += 1
            }
            if failures >= policy.failureAttempts {
                throw HistoryError(code: .upstreamFailed, message: "the broker failed \(failures) times; last: \(problem)")
            }
            logger.warning("historical request failed; retrying", metadata: ["account": "\(account.id)", "attempt": "\(failures)", "error": "\(problem)"])
            do {
                try await Task.sleep(for: Backoff(base: policy.failureBaseDelay, cap: policy.failureBaseDelay * 8).delay(afterFailures: failures))
            } catch {
                throw HistoryError(code: .upstreamFailed, message: "cancelled")
            }
        }
    }
}

extension Array where Element: Sendable {
    /// The elements mapped one after the other by an async function.
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(await transform(element)) }
        return result
    }
}
