/// Serialises work on the same instruments inside this process: a request holds every token it touches from the
/// moment it reads the stored state until its feed calls and transaction are done, so two requests for one token
/// can never both see "not subscribed" and both create it. Tokens of one request are taken all at once (no
/// lock-order deadlocks); requests for different tokens run in parallel.
actor TokenLocks {
    private var held: Set<Int64> = []
    private var waiters: [(tokens: Set<Int64>, continuation: CheckedContinuation<Void, Never>)] = []

    init() {}

    /// Runs `body` while holding every token.
    /// - Parameters:
    ///   - tokens: The instruments.
    ///   - body: The work.
    nonisolated func withLocks<T: Sendable>(_ tokens: some Sequence<Int64>, _ body: () async throws -> T) async throws -> T {
        let set = Set(tokens)
        await acquire(set)
        do {
            let value = try await body()
            await release(set)
            return value
        } catch {
            await release(set)
            throw error
        }
    }

    private func acquire(_ tokens: Set<Int64>) async {
        if held.isDisjoint(with: tokens) {
            held.formUnion(tokens)
            return
        }
        await withCheckedContinuation { continuation in
            waiters.append((tokens, continuation))
        }
    }

    private func release(_ tokens: Set<Int64>) {
        held.subtract(tokens)
        var index = 0
        while index < waiters.count {
            if held.isDisjoint(with: waiters[index].tokens) {
                let waiter = waiters.remove(at: index)
                held.formUnion(waiter.tokens)
                waiter.continuation.resume()
            } else {
                index += 1
            }
        }
    }
}
