import Synchronization

/// Runs `work` apart from the calling task and returns its result, or throws `CancellationError` as soon as the
/// calling task is cancelled, leaving `work` to finish (or notice its own cancellation) on its own.
///
/// For CPU-bound steps that cannot stop halfway, such as building an index of 100,000 instruments, which a graceful
/// shutdown must not wait for: the process exits and the unfinished result is dropped. `work` must not hold anything
/// the shutdown needs back (a lock, a pooled connection it keeps after returning).
/// - Parameter work: The work; it is cancelled too, so it may stop early where it can.
/// - Returns: What `work` returned.
/// - Throws: What `work` threw, or `CancellationError` when the caller was cancelled first.
public func abandonedOnCancel<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let handoff = Handoff<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            handoff.wait(continuation, running: work)
        }
    } onCancel: {
        handoff.cancel()
    }
}

/// The continuation of the waiting caller and the detached task, each resumed or cancelled once.
private final class Handoff<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var task: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, any Error>, running work: @escaping @Sendable () async throws -> T) {
        let alreadyCancelled = state.withLock { state in
            state.continuation = continuation
            return state.cancelled
        }
        if alreadyCancelled {
            resume(with: .failure(CancellationError()))
            return
        }
        let task = Task.detached { [self] in
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            resume(with: result)
        }
        state.withLock { $0.task = task }
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
        resume(with: .failure(CancellationError()))
    }

    private func resume(with result: Result<T, any Error>) {
        state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }?.resume(with: result)
    }
}
