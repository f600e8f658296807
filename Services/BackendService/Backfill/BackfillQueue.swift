import Foundation
import Synchronization

/// One instrument to backfill. Requests for the same instrument coalesce (see ``BackfillQueue``).
struct BackfillRequest: Sendable {
    enum Reason: String, Sendable {
        case subscription
        case gap
        case manual
    }

    var token: Int64
    var reason: Reason
    /// Fetch the tail: since the last stored bar, or the lookback when there is none.
    var wantsTail: Bool
    /// Explicit missing runs `[start, end]` (inclusive minute starts, Unix seconds) from the gap finder.
    var ranges: [ClosedRange<Int64>] = []
    /// `backfill_jobs` rows this request completes.
    var jobIDs: [Int64] = []
    /// Subscription events' `timestamp`s, for the event-to-first-bar histogram.
    var eventTimestamps: [Double] = []
    var exchange: String?
    var tradingsymbol: String?

    /// Folds another request for the same instrument into this one.
    mutating func merge(_ other: BackfillRequest) {
        wantsTail = wantsTail || other.wantsTail
        ranges += other.ranges
        jobIDs += other.jobIDs
        eventTimestamps += other.eventTimestamps
        exchange = exchange ?? other.exchange
        tradingsymbol = tradingsymbol ?? other.tradingsymbol
        if other.reason == .subscription { reason = .subscription }
    }
}

/// How one backfill ended.
enum BackfillOutcome: Sendable, Equatable {
    case success(bars: Int)
    case nothingToDo
    case failed(String)
    /// The queue closed (shutdown) before it ran.
    case cancelled
}

/// What ``BackfillQueue/enqueue(_:)`` did.
enum EnqueueResult: Sendable, Equatable {
    case queued
    /// Folded into a request already waiting or running for the instrument.
    case coalesced
    case closed
}

/// The backfill work list: one entry per instrument, subscription requests ahead of gap requests, bounded concurrency
/// (the workers of ``BackfillService``). A request for an instrument already waiting is merged into it; one for an
/// instrument being backfilled right now is attached to that run and completes with it (its fetch started after the
/// subscription, so it covers the same window). Callers may wait for the outcome.
final class BackfillQueue: Sendable {
    struct Snapshot: Sendable {
        var queued: Int
        var running: [Int64]
        var completed: Int
        var failed: Int
        var coalesced: Int
        var fetches: Int
        var recentFailures: [(token: Int64, error: String, at: Date)]
    }

    private struct State {
        var high: [Int64] = []
        var normal: [Int64] = []
        var pending: [Int64: BackfillRequest] = [:]
        var running: [Int64: [BackfillRequest]] = [:]
        var callers: [Int64: [Caller]] = [:]
        var nextCallerID: UInt64 = 0
        var workers: [CheckedContinuation<BackfillRequest?, Never>] = []
        var closed = false
        var completed = 0
        var failed = 0
        var coalesced = 0
        var fetches = 0
        var recentFailures: [(token: Int64, error: String, at: Date)] = []
    }

    /// Someone waiting for an instrument's outcome.
    private struct Caller {
        var id: UInt64
        var continuation: CheckedContinuation<BackfillOutcome, Never>
    }

    private let state = Mutex(State())

    /// Adds a request (or merges it into one for the same instrument).
    @discardableResult
    func enqueue(_ request: BackfillRequest) -> EnqueueResult {
        enqueue(request, caller: nil)
    }

    /// Adds a request and waits until it (or the run it was merged into) finishes, or until the waiting task is
    /// cancelled: then it returns ``BackfillOutcome/cancelled`` at once and the request itself stays queued.
    func enqueueAndWait(_ request: BackfillRequest) async -> BackfillOutcome {
        let id = state.withLock { state in
            defer { state.nextCallerID += 1 }
            return state.nextCallerID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if enqueue(request, caller: Caller(id: id, continuation: continuation)) == .closed {
                    continuation.resume(returning: .cancelled)
                }
            }
        } onCancel: {
            let caller: Caller? = state.withLock { state in
                guard let index = state.callers[request.token]?.firstIndex(where: { $0.id == id }) else { return nil }
                return state.callers[request.token]?.remove(at: index)
            }
            caller?.continuation.resume(returning: .cancelled)
        }
    }

    private func enqueue(_ request: BackfillRequest, caller: Caller?) -> EnqueueResult {
        var cancelledCaller: Caller?
        let (result, worker): (EnqueueResult, (CheckedContinuation<BackfillRequest?, Never>, BackfillRequest)?) = state.withLock { state in
            if state.closed { return (.closed, nil) }
            // Checked under the lock that the cancellation handler takes: either it finds this caller, or the caller
            // sees the cancellation here and is answered at once.
            if let caller {
                if Task.isCancelled { cancelledCaller = caller } else { state.callers[request.token, default: []].append(caller) }
            }
            if state.running[request.token] != nil {
                state.running[request.token]?.append(request)
                state.coalesced += 1
                return (.coalesced, nil)
            }
            if var existing = state.pending[request.token] {
                let wasNormal = existing.reason != .subscription
                existing.merge(request)
                state.pending[request.token] = existing
                if wasNormal, existing.reason == .subscription, let index = state.normal.firstIndex(of: request.token) {
                    state.normal.remove(at: index)
                    state.high.append(request.token)
                }
                state.coalesced += 1
                return (.coalesced, nil)
            }
            if !state.workers.isEmpty {
                let worker = state.workers.removeFirst()
                state.running[request.token] = []
                return (.queued, (worker, request))
            }
            state.pending[request.token] = request
            if request.reason == .subscription { state.high.append(request.token) } else { state.normal.append(request.token) }
            return (.queued, nil)
        }
        if let (worker, request) = worker { worker.resume(returning: request) }
        cancelledCaller?.continuation.resume(returning: .cancelled)
        EventBackfillMetrics.depth(depth)
        return result
    }

    /// The next request for a worker; nil once the queue is closed.
    func next() async -> BackfillRequest? {
        await withCheckedContinuation { continuation in
            let request: BackfillRequest?? = state.withLock { state in
                if state.closed { return .some(nil) }
                let token: Int64
                if !state.high.isEmpty {
                    token = state.high.removeFirst()
                } else if !state.normal.isEmpty {
                    token = state.normal.removeFirst()
                } else {
                    state.workers.append(continuation)
                    return nil
                }
                let request = state.pending.removeValue(forKey: token)
                state.running[token] = []
                return .some(request)
            }
            if let request { continuation.resume(returning: request) }
        }
    }

    /// Records that a request finished: completes attached requests and wakes the callers waiting on the instrument.
    /// - Returns: The requests that were attached while it ran (their jobs share the outcome).
    @discardableResult
    func complete(_ request: BackfillRequest, outcome: BackfillOutcome, fetched: Bool) -> [BackfillRequest] {
        let (attached, callers) = state.withLock { state in
            let attached = state.running.removeValue(forKey: request.token) ?? []
            let callers = state.callers.removeValue(forKey: request.token) ?? []
            if fetched { state.fetches += 1 }
            switch outcome {
            case .failed(let message):
                state.failed += 1
                state.recentFailures.append((request.token, message, Date()))
                if state.recentFailures.count > 20 { state.recentFailures.removeFirst(state.recentFailures.count - 20) }
            default:
                state.completed += 1
            }
            return (attached, callers)
        }
        for caller in callers { caller.continuation.resume(returning: outcome) }
        EventBackfillMetrics.depth(depth)
        return attached
    }

    /// Stops handing out work; waiting workers get nil and waiting callers ``BackfillOutcome/cancelled``.
    func close() {
        let (workers, callers) = state.withLock { state in
            state.closed = true
            let workers = state.workers
            state.workers = []
            // Callers of requests that are running keep waiting for them; the rest are cancelled.
            var cancelled: [Caller] = []
            for (token, list) in state.callers where state.running[token] == nil {
                cancelled += list
                state.callers[token] = nil
            }
            state.pending = [:]
            state.high = []
            state.normal = []
            return (workers, cancelled)
        }
        for worker in workers { worker.resume(returning: nil) }
        for caller in callers { caller.continuation.resume(returning: .cancelled) }
    }

    /// Waiting plus running instruments.
    var depth: Int {
        state.withLock { $0.pending.count + $0.running.count }
    }

    /// Counts for `/internal/backfill/status`.
    var snapshot: Snapshot {
        state.withLock { state in
            Snapshot(
                queued: state.pending.count, running: state.running.keys.sorted(), completed: state.completed, failed: state.failed,
                coalesced: state.coalesced, fetches: state.fetches, recentFailures: state.recentFailures
            )
        }
    }
}
