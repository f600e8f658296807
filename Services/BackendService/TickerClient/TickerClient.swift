import AsyncHTTPClient
import BrokerWire
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Shared
import SharedInstruments
import SharedJSON

/// Why a call to TickerService failed.
struct TickerClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; a struct so that cases can grow.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// TickerService could not be reached (refused, DNS, timeout).
        static let unreachable = Code(name: "unreachable")
        /// TickerService answered with a non-success HTTP status.
        static let httpStatus = Code(name: "http_status")
        /// The body was not what the API promises.
        static let decoding = Code(name: "decoding")
        /// The request could not be built (bad base URL).
        static let invalidRequest = Code(name: "invalid_request")
        var description: String { name }
    }

    var code: Code
    /// The HTTP status for ``Code/httpStatus``.
    var status: Int?
    var message: String

    init(_ code: Code, status: Int? = nil, _ message: String) {
        self.code = code
        self.status = status
        self.message = message
    }

    var description: String {
        if let status { return "ticker \(code) \(status): \(message)" }
        return "ticker \(code): \(message)"
    }

    /// Whether retrying later may help (the service is down, overloaded or rate-limited).
    var isTransient: Bool {
        switch code {
        case .unreachable: true
        case .httpStatus: status.map { $0 == 429 || $0 >= 500 } ?? true
        default: false
        }
    }
}

/// One active subscription as `GET /subscriptions?status=active` lists it.
struct TickerSubscriptionSummary: Sendable, Hashable {
    var instrumentToken: Int64
    var tradingsymbol: String
    var mode: SubscriptionMode?
}

/// What `POST /subscriptions` did.
struct TickerSubscribeOutcome: Sendable, Hashable {
    /// Tokens that are subscribed after the call (new or already held).
    var subscribed: [Int64]
    /// Tokens that became subscribed by this call (the batch answer's `created`), when the service says.
    var created: [Int64]
    /// Set when the service answered 409: every connection is full.
    var capacityError: String?
}

/// BackendService's HTTP client for TickerService: history, active subscriptions, subscribing, instrument metadata.
///
/// Every call has a timeout; failures are ``TickerClientError`` (unreachable, HTTP status with the service's message,
/// decoding). The API key, when configured, is sent as `X-API-Key` and never logged.
struct TickerClient: Sendable, InstrumentTokenLookup {
    let baseURL: String
    let apiKey: String?
    let httpClient: HTTPClient
    let logger: Logger
    /// Timeout of the quick calls (subscriptions, instruments).
    var requestTimeout: TimeAmount = .seconds(10)
    /// Timeout of `/history`, which the ticker paces by the broker's rate limit (a long window is several requests).
    var historyTimeout: TimeAmount = .seconds(60)
    /// Largest response body accepted.
    var maxBodyBytes = 64 * 1024 * 1024

    init(baseURL: String, apiKey: String?, httpClient: HTTPClient, logger: Logger) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.httpClient = httpClient
        self.logger = logger
    }

    /// `GET /history/{token}?from=&to=&interval=`: candles in `[from, to]`, oldest first.
    func history(token: Int64, from: Date, to: Date, interval: KiteCandleInterval) async throws -> [KiteCandle] {
        let query = "from=\(Self.istQueryTime(from))&to=\(Self.istQueryTime(to))&interval=\(interval.rawValue)"
        // Backfill's requests have a share of TickerService's broker pacing of their own (docs/feed.md).
        let (status, body) = try await send(
            .GET, path: "/history/\(token)?\(query)", body: nil, timeout: historyTimeout, headers: [("X-History-Purpose", "backfill")]
        )
        guard (200..<300).contains(status) else { throw Self.statusError(status, body, path: "/history/\(token)") }
        do {
            return try KiteHistoricalJSON.parse(body)
        } catch {
            throw TickerClientError(.decoding, "history for \(token): \(error)")
        }
    }

    /// `GET /health`: TickerService's own account of its connections and subscriptions, as it is (a 503 body, which
    /// says what is degraded, is returned too).
    func health() async throws -> JSONValue {
        let (status, body) = try await send(.GET, path: "/health", body: nil, timeout: requestTimeout)
        guard (200..<300).contains(status) || status == 503, let object = Self.jsonObject(body) else {
            throw Self.statusError(status, body, path: "/health")
        }
        return object
    }

    /// `GET /subscriptions?status=active`.
    func activeSubscriptions() async throws -> [TickerSubscriptionSummary] {
        let (status, body) = try await send(.GET, path: "/subscriptions?status=active", body: nil, timeout: requestTimeout)
        guard (200..<300).contains(status) else { throw Self.statusError(status, body, path: "/subscriptions") }
        guard case .array(let list) = Self.jsonObject(body)?["subscriptions"] else {
            throw TickerClientError(.decoding, "GET /subscriptions: expected {\"subscriptions\":[...]}")
        }
        return try list.map { item in
            guard let token = Self.int64(item["instrument_token"]) else {
                throw TickerClientError(.decoding, "GET /subscriptions: a subscription has no instrument_token")
            }
            return TickerSubscriptionSummary(
                instrumentToken: token,
                tradingsymbol: item["tradingsymbol"]?.stringValue ?? "",
                mode: item["mode"]?.stringValue.flatMap(SubscriptionMode.init(caseInsensitive:))
            )
        }
    }

    /// `POST /subscriptions` (one token: the single form; several: the batch form). A 409 (no capacity left) is not
    /// thrown: it comes back as ``TickerSubscribeOutcome/capacityError``.
    func subscribe(_ tokens: [Int64], mode: SubscriptionMode, holder: String) async throws -> TickerSubscribeOutcome {
        guard !tokens.isEmpty else { return TickerSubscribeOutcome(subscribed: [], created: [], capacityError: nil) }
        let request = TickerSubscribeRequest(tokens: tokens, mode: mode, holder: holder)
        let (status, body) = try await send(.POST, path: "/subscriptions", body: try request.jsonText(), timeout: requestTimeout)
        if status == 409 {
            return TickerSubscribeOutcome(subscribed: [], created: [], capacityError: Self.message(body) ?? "no subscription capacity left")
        }
        guard (200..<300).contains(status) else { throw Self.statusError(status, body, path: "/subscriptions") }
        let object = Self.jsonObject(body)
        var subscribed: [Int64] = []
        if case .array(let list) = object?["subscriptions"] {
            subscribed = list.compactMap { Self.int64($0["instrument_token"]) }
        } else if let token = Self.int64(object?["instrument_token"]) {
            subscribed = [token]
        } else {
            subscribed = tokens
        }
        let created: [Int64]
        if case .array(let list) = object?["created"] {
            created = list.compactMap { Self.int64($0) }
        } else {
            created = status == 201 ? subscribed : []
        }
        return TickerSubscribeOutcome(subscribed: subscribed, created: created, capacityError: nil)
    }

    /// `GET /instruments/{token}`; nil when the ticker does not know the instrument (404). The fallback of BackendService's
    /// ``FallbackInstrumentCatalog`` while the shared instrument table lacks a token.
    func instrument(token: Int64) async throws -> Instrument? {
        let (status, body) = try await send(.GET, path: "/instruments/\(token)", body: nil, timeout: requestTimeout)
        if status == 404 { return nil }
        guard (200..<300).contains(status) else { throw Self.statusError(status, body, path: "/instruments/\(token)") }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(Instrument.self, from: Data(body.utf8))
        } catch {
            throw TickerClientError(.decoding, "GET /instruments/\(token): \(error)")
        }
    }

    // MARK: - HTTP

    func send(
        _ method: HTTPMethod, path: String, body: String?, timeout: TimeAmount, headers: [(String, String)] = []
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let apiKey { request.headers.add(name: "X-API-Key", value: apiKey) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: timeout, logger: logger)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TickerClientError(.unreachable, "\(method) \(baseURL)\(Self.pathOnly(path)): \(error)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: maxBodyBytes)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TickerClientError(.unreachable, "\(method) \(Self.pathOnly(path)): reading the body failed: \(error)")
        }
        return (Int(response.status.code), String(buffer: buffer))
    }

    private static func pathOnly(_ path: String) -> String {
        path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
    }

    static func statusError(_ status: Int, _ body: String, path: String) -> TickerClientError {
        TickerClientError(.httpStatus, status: status, "\(path): \(message(body) ?? String(body.prefix(200)))")
    }

    static func message(_ body: String) -> String? {
        guard let object = jsonObject(body) else { return nil }
        return object["message"]?.stringValue ?? object["error"]?.stringValue ?? object["detail"]?.stringValue
    }

    static func jsonObject(_ body: String) -> JSONValue? {
        guard let value = try? JSONValue.parse(body.utf8), case .object = value else { return nil }
        return value
    }

    static func int64(_ raw: JSONValue?) -> Int64? {
        switch raw {
        case .integer(let value): value
        case .number(let value): value.isFinite && abs(value) < 9.2e18 ? Int64(value) : nil
        case .string(let text): Int64(text)
        default: nil
        }
    }

    /// `yyyy-MM-dd HH:mm:ss` in IST, the form Kite's and the ticker's `from`/`to` take, with the space percent-encoded.
    static func istQueryTime(_ date: Date) -> String {
        let kite = KiteHistoricalJSON.formatTimestamp(Int64(date.timeIntervalSince1970.rounded(.down)))  // 2025-11-20T09:15:00+0530
        let local = kite.prefix(19).replacingOccurrences(of: "T", with: "%20")
        return local
    }
}
