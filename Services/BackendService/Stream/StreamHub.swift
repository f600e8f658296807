import Synchronization

/// Every connected stream client, what each streams, and each one's queue of quotes not yet sent.
///
/// One tick reader calls ``publish(_:)``; it only puts quotes into queues and wakes the clients' writers, so it never
/// waits for a socket. A queue keeps only the latest quote per instrument (a newer one replaces the older, counted as
/// conflated), so it is bounded by the client's token limit however slow the client is, and a slow client never slows
/// the reader or the others.
final class StreamHub: Sendable {
    /// A registered client's id.
    typealias ClientID = UInt64

    /// What a writer takes from its client's queue: replies first (in order), then a batch of quotes.
    struct Outgoing: Sendable {
        var replies: [StreamReply]
        var quotes: [QuoteBody]
        var isEmpty: Bool { replies.isEmpty && quotes.isEmpty }
    }

    /// Most replies a client may leave unread; a client that sends without reading is closed beyond this.
    static let maxQueuedReplies = 64

    private struct Client {
        var tokens: Set<Int64> = []
        var pending: [Int64: QuoteBody] = [:]
        var replies: [StreamReply] = []
        var overflowed = false
        let wake: AsyncStream<Void>.Continuation
    }

    private struct State {
        var clients: [ClientID: Client] = [:]
        var subscribers: [Int64: Set<ClientID>] = [:]
        var nextID: ClientID = 1
    }

    let maxClients: Int
    let maxTokensPerClient: Int
    private let state = Mutex(State())
    private let sent = Atomic<Int>(0)
    private let conflated = Atomic<Int>(0)
    private let ticks = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    init(maxClients: Int, maxTokensPerClient: Int) {
        self.maxClients = maxClients
        self.maxTokensPerClient = maxTokensPerClient
    }

    // MARK: Clients

    /// Registers a client, or refuses it when `maxClients` are connected.
    /// - Returns: The client's id and the stream that wakes its writer; nil when refused.
    func register() -> (id: ClientID, wake: AsyncStream<Void>)? {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: ClientID? = state.withLock { state in
            guard state.clients.count < maxClients else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.clients[id] = Client(wake: continuation)
            return id
        }
        guard let id else {
            continuation.finish()
            refused.add(1, ordering: .relaxed)
            StreamMetrics.refused()
            return nil
        }
        StreamMetrics.clients(connected: clientCount)
        return (id, stream)
    }

    /// Removes a client and everything it streamed.
    func unregister(_ id: ClientID) {
        let client: Client? = state.withLock { state in
            guard let client = state.clients.removeValue(forKey: id) else { return nil }
            for token in client.tokens { Self.removeSubscriber(id, of: token, in: &state) }
            return client
        }
        client?.wake.finish()
        StreamMetrics.clients(connected: clientCount)
    }

    /// Adds tokens to what a client streams.
    /// - Returns: The tokens newly added and the client's total, or nil when that would exceed `maxTokensPerClient`
    ///   (nothing is added then).
    func subscribe(_ id: ClientID, tokens: [Int64]) -> (added: [Int64], total: Int)? {
        state.withLock { state in
            guard var client = state.clients.removeValue(forKey: id) else { return ([], 0) }
            defer { state.clients[id] = client }
            let unique = Set(tokens.filter { !client.tokens.contains($0) })
            guard client.tokens.count + unique.count <= maxTokensPerClient else { return nil }
            var ordered: [Int64] = []
            for token in tokens where client.tokens.insert(token).inserted {
                ordered.append(token)
                state.subscribers[token, default: []].insert(id)
            }
            return (ordered, client.tokens.count)
        }
    }

    /// Removes tokens from what a client streams, with any of their quotes not yet sent.
    /// - Returns: The tokens that were streamed and the client's remaining total.
    func unsubscribe(_ id: ClientID, tokens: [Int64]) -> (removed: [Int64], total: Int) {
        state.withLock { state in
            guard var client = state.clients.removeValue(forKey: id) else { return ([], 0) }
            defer { state.clients[id] = client }
            var removed: [Int64] = []
            for token in tokens where client.tokens.remove(token) != nil {
                removed.append(token)
                client.pending.removeValue(forKey: token)
                Self.removeSubscriber(id, of: token, in: &state)
            }
            return (removed, client.tokens.count)
        }
    }

    /// Queues a reply for the client's writer; a client with too many unread replies is marked to be closed.
    func reply(_ id: ClientID, _ reply: StreamReply) {
        let wake: AsyncStream<Void>.Continuation? = state.withLock { state in
            guard state.clients[id] != nil else { return nil }
            if state.clients[id]!.replies.count >= Self.maxQueuedReplies {
                state.clients[id]!.overflowed = true
            } else {
                state.clients[id]!.replies.append(reply)
            }
            return state.clients[id]!.wake
        }
        wake?.yield(())
    }

    /// Queues the latest known quotes of newly subscribed tokens, unless a tick already queued a newer one.
    func offerLatest(_ id: ClientID, _ quotes: [QuoteBody]) {
        guard !quotes.isEmpty else { return }
        let wake: AsyncStream<Void>.Continuation? = state.withLock { state in
            guard var client = state.clients.removeValue(forKey: id) else { return nil }
            defer { state.clients[id] = client }
            for quote in quotes where client.tokens.contains(quote.instrumentToken) && client.pending[quote.instrumentToken] == nil {
                client.pending[quote.instrumentToken] = quote
            }
            return client.wake
        }
        wake?.yield(())
    }

    /// Takes what the client's writer should send next: every queued reply and up to `maxQuotes` quotes.
    /// - Returns: Nothing to send when the queue is empty; nil when the client is gone or overflowed its replies.
    func take(_ id: ClientID, maxQuotes: Int) -> Outgoing? {
        state.withLock { state in
            // Taken out and put back so that the queue is changed in place, not copied.
            guard var client = state.clients.removeValue(forKey: id) else { return nil }
            defer { state.clients[id] = client }
            guard !client.overflowed else { return nil }
            var out = Outgoing(replies: client.replies, quotes: [])
            client.replies.removeAll()
            if client.pending.count <= maxQuotes {
                out.quotes = Array(client.pending.values)
                client.pending.removeAll(keepingCapacity: true)
            } else {
                let keys = client.pending.keys.prefix(maxQuotes)
                out.quotes.reserveCapacity(maxQuotes)
                for key in Array(keys) { if let quote = client.pending.removeValue(forKey: key) { out.quotes.append(quote) } }
            }
            return out
        }
    }

    // MARK: Ticks

    /// Queues each quote for every client that streams its instrument and wakes their writers; never waits for them.
    /// - Parameter quotes: Quotes in tick order; a later one for the same instrument replaces an earlier one.
    func publish(_ quotes: [QuoteBody], ticksRead: Int) {
        ticks.add(ticksRead, ordering: .relaxed)
        StreamMetrics.read(ticksRead)
        guard !quotes.isEmpty else { return }
        var replaced = 0
        let wakes: [AsyncStream<Void>.Continuation] = state.withLock { state in
            var woken = Set<ClientID>()
            for quote in quotes {
                guard let ids = state.subscribers[quote.instrumentToken] else { continue }
                for id in ids {
                    guard state.clients[id] != nil else { continue }
                    if state.clients[id]!.pending.updateValue(quote, forKey: quote.instrumentToken) != nil { replaced += 1 }
                    woken.insert(id)
                }
            }
            return woken.compactMap { state.clients[$0]?.wake }
        }
        if replaced > 0 {
            conflated.add(replaced, ordering: .relaxed)
            StreamMetrics.conflated(replaced)
        }
        for wake in wakes { wake.yield(()) }
    }

    /// Counts messages a writer sent.
    func didSend(messages: Int) {
        sent.add(messages, ordering: .relaxed)
        StreamMetrics.sent(messages)
    }

    // MARK: Figures

    var clientCount: Int { state.withLock { $0.clients.count } }

    /// Every token some client streams (the LRU use record).
    var streamedTokens: [Int64] { state.withLock { Array($0.subscribers.keys) } }

    /// `GET /api/v2/ws/stats`.
    var stats: StreamStatsBody {
        let (clients, tokens) = state.withLock { ($0.clients.count, $0.subscribers.count) }
        return StreamStatsBody(
            clients: clients, maxClients: maxClients, subscribedTokens: tokens, messagesSent: sent.load(ordering: .relaxed),
            updatesConflated: conflated.load(ordering: .relaxed), ticksRead: ticks.load(ordering: .relaxed),
            clientsRefused: refused.load(ordering: .relaxed)
        )
    }

    private static func removeSubscriber(_ id: ClientID, of token: Int64, in state: inout State) {
        guard var ids = state.subscribers[token] else { return }
        ids.remove(id)
        state.subscribers[token] = ids.isEmpty ? nil : ids
    }
}

extension StreamHub {
    /// The tokens among `tokens` that some client streams, under one lock.
    func streamed(among tokens: Set<Int64>) -> Set<Int64> {
        state.withLock { state in tokens.filter { state.subscribers[$0] != nil } }
    }
}
