import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import ServiceRuntime
import Shared
import SharedBasics

/// Serves one stream client: reads its JSON actions and answers them, and writes its queued replies and quotes
/// (docs/stream.md). Reading and writing run side by side, so a client that stops reading only stalls its own
/// writer; its queue conflates meanwhile (``StreamHub``).
struct StreamSession: Sendable {
    struct Settings: Sendable {
        var maxTokensPerMessage: Int
        var maxQuotesPerMessage: Int
        var maxInboundBytes: Int
    }

    let hub: StreamHub
    /// The latest-quote hashes, on the request connection (never a blocking read).
    let quotes: LiveQuotes
    let watchlists: any WatchlistTokens
    let settings: Settings
    let logger: Logger

    /// Close code 1013 (try again later): `STREAM_MAX_CLIENTS` are connected.
    static let tryAgainLater = WebSocketErrorCode.unknown(1013)

    /// Runs the client until it closes, stops answering pings, or leaves too many replies unread.
    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        guard let (id, wake) = hub.register() else {
            logger.info("stream client refused: too many clients", metadata: [LogKey.maxClients: "\(hub.maxClients)"])
            try? await outbound.close(Self.tryAgainLater, reason: "too many stream clients (STREAM_MAX_CLIENTS=\(hub.maxClients)); try again later")
            return
        }
        defer { hub.unregister(id) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await write(id, wake: wake, outbound: outbound) }
            group.addTask { await read(id, inbound: inbound) }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Writing

    /// Sends what the client's queue holds each time it is woken; ends when the client is gone.
    private func write(_ id: StreamHub.ClientID, wake: AsyncStream<Void>, outbound: WebSocketOutboundWriter) async {
        let encoder = APIJSON.encoder()
        do {
            for await _ in wake {
                while true {
                    guard let outgoing = hub.take(id, maxQuotes: settings.maxQuotesPerMessage) else {
                        try? await outbound.close(
                            .policyViolation, reason: "more than \(StreamHub.maxQueuedReplies) replies left unread; read the socket"
                        )
                        return
                    }
                    if outgoing.isEmpty { break }
                    for reply in outgoing.replies { try await outbound.writeTextMessage(reply.text(encoder)) }
                    if !outgoing.quotes.isEmpty { try await outbound.writeTextMessage(StreamReply.quotes(outgoing.quotes).text(encoder)) }
                    hub.didSend(messages: outgoing.replies.count + (outgoing.quotes.isEmpty ? 0 : 1))
                }
            }
        } catch {
            logger.debug("stream client write failed", metadata: [LogKey.error: "\(error)"])
        }
    }

    // MARK: Reading

    /// Handles each inbound message in turn; ends when the client closes.
    private func read(_ id: StreamHub.ClientID, inbound: WebSocketInboundStream) async {
        do {
            for try await message in inbound.messages(maxSize: settings.maxInboundBytes) {
                guard case .text(let text) = message else {
                    hub.reply(id, .error(code: StreamErrorCode.invalidMessage, message: "send JSON text messages, not binary"))
                    continue
                }
                await handle(text, client: id)
            }
        } catch {
            logger.debug("stream client read ended", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Answers one action; a bad one gets an `error` reply and changes nothing.
    func handle(_ text: String, client id: StreamHub.ClientID) async {
        let request: StreamRequest
        do {
            request = try JSONDecoder().decode(StreamRequest.self, from: Data(text.utf8))
        } catch {
            hub.reply(
                id,
                .error(
                    code: StreamErrorCode.invalidMessage,
                    message: #"expected {"action":"subscribe"|"unsubscribe","tokens":[positive integers]} or {"action":"watchlist","user_id":"..."}"#
                )
            )
            return
        }
        switch request.action {
        case "subscribe":
            guard let tokens = validTokens(request.tokens, client: id) else { return }
            await subscribe(tokens, client: id)
        case "unsubscribe":
            guard let tokens = validTokens(request.tokens, client: id) else { return }
            let (removed, total) = hub.unsubscribe(id, tokens: tokens)
            hub.reply(id, .unsubscribed(tokens: removed, total: total))
        case "watchlist":
            await watchlist(request.userID, client: id)
        default:
            hub.reply(
                id,
                .error(
                    code: StreamErrorCode.unknownAction,
                    message: "action \(Excerpt.quoted(request.action)) is not one of subscribe, unsubscribe, watchlist"
                )
            )
        }
    }

    /// The message's tokens, or nil after replying what was wrong with them.
    private func validTokens(_ tokens: [Int64]?, client id: StreamHub.ClientID) -> [Int64]? {
        guard let tokens, !tokens.isEmpty else {
            hub.reply(id, .error(code: StreamErrorCode.invalidToken, message: "tokens must be a non-empty list of instrument tokens"))
            return nil
        }
        guard tokens.count <= settings.maxTokensPerMessage else {
            hub.reply(
                id,
                .error(
                    code: StreamErrorCode.tooManyTokens,
                    message: "\(tokens.count) tokens in one message; at most \(settings.maxTokensPerMessage) (STREAM_MAX_TOKENS_PER_MESSAGE)"
                )
            )
            return nil
        }
        if let bad = tokens.first(where: { $0 <= 0 }) {
            hub.reply(id, .error(code: StreamErrorCode.invalidToken, message: "token \(bad) is not a positive instrument token"))
            return nil
        }
        return tokens
    }

    /// Adds the tokens, replies `subscribed`, then queues their latest known quotes so the client is not blank until
    /// the next tick.
    private func subscribe(_ tokens: [Int64], client id: StreamHub.ClientID) async {
        guard let (added, total) = hub.subscribe(id, tokens: tokens) else {
            hub.reply(
                id,
                .error(
                    code: StreamErrorCode.tooManyTokens,
                    message: "a client may stream at most \(hub.maxTokensPerClient) instruments (STREAM_MAX_TOKENS_PER_CLIENT); unsubscribe some first"
                )
            )
            return
        }
        hub.reply(id, .subscribed(tokens: added, total: total))
        guard !added.isEmpty else { return }
        do {
            hub.offerLatest(id, Array(try await quotes.quotes(added).values))
        } catch {
            logger.warning("latest quotes for a stream subscription could not be read", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Subscribes every token of the user's watchlist.
    private func watchlist(_ userID: String?, client id: StreamHub.ClientID) async {
        let user: String
        do {
            user = try UserID.validated(userID)
        } catch {
            hub.reply(id, .error(code: StreamErrorCode.invalidUser, message: error.message))
            return
        }
        let tokens: [Int64]?
        do {
            tokens = try await watchlists.watchlistTokens(userID: user)
        } catch {
            logger.warning("watchlist for the stream could not be read", metadata: [LogKey.error: "\(error)"])
            hub.reply(id, .error(code: StreamErrorCode.unavailable, message: "the watchlist could not be read now; try again"))
            return
        }
        guard let tokens else {
            hub.reply(id, .error(code: StreamErrorCode.unknownUser, message: "user \(Excerpt.quoted(user)) has no watchlist"))
            return
        }
        guard !tokens.isEmpty else {
            hub.reply(id, .subscribed(tokens: [], total: hub.subscribe(id, tokens: [])?.total ?? 0))
            return
        }
        await subscribe(tokens, client: id)
    }
}
