import Foundation

/// The brokers TickerService streams from, with the limits each imposes on one account.
enum Broker: String, Sendable, Hashable, CaseIterable {
    /// Zerodha Kite Connect: 3 WebSocket connections per API key, 3,000 instruments per connection.
    case kite
    /// Dhan v2: 5 connections per client id, 5,000 instruments per connection, 100 instruments per subscribe message.
    case dhan

    var maxConnections: Int {
        switch self {
        case .kite: 3
        case .dhan: 5
        }
    }

    var instrumentsPerConnection: Int {
        switch self {
        case .kite: 3000
        case .dhan: 5000
        }
    }

    /// The most instruments one subscribe/unsubscribe message may list (Kite sets no limit; we send 500).
    var maxInstrumentsPerMessage: Int? {
        switch self {
        case .kite: nil
        case .dhan: 100
        }
    }

    /// The production WebSocket root.
    var defaultWebSocketURL: String {
        switch self {
        case .kite: "wss://ws.kite.trade"
        case .dhan: "wss://api-feed.dhan.co"
        }
    }

    /// The production REST root.
    var defaultRestURL: String {
        switch self {
        case .kite: "https://api.kite.trade"
        case .dhan: "https://api.dhan.co"
        }
    }
}

/// One broker account: where its WebSocket and REST APIs are, how much it may stream, and where its secrets come from.
///
/// The API key (Dhan: client id) and access token are not stored here but read from ``credentialSource`` whenever a
/// connection is (re)opened or a historical request is signed, so a daily token change needs no restart.
struct BrokerAccount: Sendable, Hashable {
    /// Kite's limits: 3 WebSocket connections per API key, 3,000 instruments per connection.
    static let kiteMaxConnections = Broker.kite.maxConnections
    static let kiteInstrumentsPerConnection = Broker.kite.instrumentsPerConnection

    /// The name logs, metrics and `/health` use (never the API key).
    var id: String
    /// The broker whose wire protocol the account's connections speak.
    var broker: Broker = .kite
    /// The ticker WebSocket root, e.g. `wss://ws.kite.trade`, `wss://api-feed.dhan.co` or `ws://127.0.0.1:8090`.
    var webSocketURL: String
    /// The REST root, e.g. `https://api.kite.trade`, `https://api.dhan.co` or `http://127.0.0.1:8090`.
    var restURL: String
    /// WebSocket connections this account may open.
    var maxConnections: Int = kiteMaxConnections
    /// Instruments one connection may carry.
    var instrumentsPerConnection: Int = kiteInstrumentsPerConnection
    /// Where the API key and access token are read from.
    var credentialSource: CredentialSource

    /// Reads the account's current credentials from their source.
    func loadCredentials() throws(AccountConfigError) -> BrokerCredentials {
        switch credentialSource {
        case let .fixed(credentials):
            return credentials
        case let .accountsFile(path):
            let entries = try AccountsFile.load(path: path)
            guard let entry = entries.first(where: { $0.id == id }) else {
                throw AccountConfigError(.invalid, "account \(id) is no longer in \(path)")
            }
            return try entry.credentials()
        }
    }
}

/// Where an account's secrets live.
enum CredentialSource: Sendable, Hashable {
    /// Given once (environment variables); changing them needs a restart.
    case fixed(BrokerCredentials)
    /// The accounts file, re-read at every (re)connect; an entry may point at an `access_token_file` too.
    case accountsFile(path: String)
}

/// An API key (Dhan: the client id) and access token. Its description never shows either.
struct BrokerCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Kite's `api_key`, or Dhan's `client_id`.
    var apiKey: String
    var accessToken: String

    var description: String { "BrokerCredentials(***)" }
    var debugDescription: String { description }
}

/// The accounts configuration could not be used.
struct AccountConfigError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// The file cannot be read.
        static let unreadable = Code("unreadable")
        /// The file is not the documented JSON, or a value is out of range.
        static let invalid = Code("invalid")
        /// An account has no access token (neither `access_token` nor a readable `access_token_file`).
        static let missingToken = Code("missingToken")
        var description: String { name }
    }

    var code: Code
    var message: String
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}

/// The `ACCOUNTS_FILE` format (docs/feed.md): a JSON array of accounts, or `{"accounts":[...]}`.
///
/// ```json
/// [{"id":"primary","api_key":"...","access_token":"...","broker":"kite",
///   "ws_url":"wss://ws.kite.trade","rest_url":"https://api.kite.trade",
///   "max_connections":3,"instruments_per_connection":3000},
///  {"id":"second","api_key":"...","access_token_file":"/run/secrets/kite_second_token"},
///  {"id":"dhan","broker":"dhan","client_id":"1000000001","access_token_file":"/run/secrets/dhan_token"}]
/// ```
/// A Kite entry names its `api_key`, a Dhan entry its `client_id`; limits default to the broker's own.
enum AccountsFile {
    struct Entry: Sendable, Decodable {
        var id: String
        /// Kite's API key, or for Dhan the client id (`client_id` is the name Dhan uses; either is accepted).
        var api_key: String
        var access_token: String?
        var access_token_file: String?
        var broker: String?
        var ws_url: String?
        var rest_url: String?
        var max_connections: Int?
        var instruments_per_connection: Int?

        enum CodingKeys: String, CodingKey {
            case id, api_key, client_id, access_token, access_token_file, broker, ws_url, rest_url, max_connections, instruments_per_connection
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            api_key = try container.decodeIfPresent(String.self, forKey: .client_id) ?? container.decodeIfPresent(String.self, forKey: .api_key) ?? ""
            access_token = try container.decodeIfPresent(String.self, forKey: .access_token)
            access_token_file = try container.decodeIfPresent(String.self, forKey: .access_token_file)
            broker = try container.decodeIfPresent(String.self, forKey: .broker)
            ws_url = try container.decodeIfPresent(String.self, forKey: .ws_url)
            rest_url = try container.decodeIfPresent(String.self, forKey: .rest_url)
            max_connections = try container.decodeIfPresent(Int.self, forKey: .max_connections)
            instruments_per_connection = try container.decodeIfPresent(Int.self, forKey: .instruments_per_connection)
        }

        /// The broker named by `broker` (default `kite`).
        var brokerKind: Broker? { Broker(rawValue: (broker ?? Broker.kite.rawValue).lowercased()) }

        func credentials() throws(AccountConfigError) -> BrokerCredentials {
            if let token = access_token, !token.isEmpty {
                return BrokerCredentials(apiKey: api_key, accessToken: token)
            }
            if let path = access_token_file {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw AccountConfigError(.missingToken, "account \(id): access_token_file \(path) cannot be read")
                }
                let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else { throw AccountConfigError(.missingToken, "account \(id): access_token_file \(path) is empty") }
                return BrokerCredentials(apiKey: api_key, accessToken: token)
            }
            throw AccountConfigError(.missingToken, "account \(id) has neither access_token nor access_token_file")
        }
    }

    private struct Wrapped: Decodable {
        var accounts: [Entry]
    }

    static func load(path: String) throws(AccountConfigError) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AccountConfigError(.unreadable, "accounts file \(path) cannot be read")
        }
        return try parse(data, origin: path)
    }

    static func parse(_ data: Data, origin: String) throws(AccountConfigError) -> [Entry] {
        let decoder = JSONDecoder()
        let entries: [Entry]
        if let list = try? decoder.decode([Entry].self, from: data) {
            entries = list
        } else if let wrapped = try? decoder.decode(Wrapped.self, from: data) {
            entries = wrapped.accounts
        } else {
            // Say what is wrong without echoing the content (it holds secrets).
            throw AccountConfigError(
                .invalid, "accounts file \(origin) is not a JSON array of {id, api_key, access_token|access_token_file, ...}"
            )
        }
        var seen = Set<String>()
        for entry in entries {
            guard let broker = entry.brokerKind else {
                throw AccountConfigError(
                    .invalid, "account \(entry.id): broker must be one of \(Broker.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            guard !entry.id.isEmpty, !entry.api_key.isEmpty else {
                let key = broker == .dhan ? "client_id" : "api_key"
                throw AccountConfigError(.invalid, "accounts file \(origin): every account needs a non-empty id and \(key)")
            }
            guard seen.insert(entry.id).inserted else {
                throw AccountConfigError(.invalid, "accounts file \(origin): account id \(entry.id) appears twice")
            }
            if let n = entry.max_connections, !(1...100).contains(n) {
                throw AccountConfigError(.invalid, "account \(entry.id): max_connections \(n) is outside 1...100")
            }
            if let n = entry.instruments_per_connection, !(1...65_535).contains(n) {
                throw AccountConfigError(.invalid, "account \(entry.id): instruments_per_connection \(n) is outside 1...65535")
            }
            // The broker's own limits are a ceiling: more would only be refused (Kite 429, Dhan 804/805) at connect.
            if let n = entry.max_connections, n > broker.maxConnections {
                throw AccountConfigError(.invalid, "account \(entry.id): max_connections \(n) is above \(broker.rawValue)'s limit of \(broker.maxConnections)")
            }
            if let n = entry.instruments_per_connection, n > broker.instrumentsPerConnection {
                throw AccountConfigError(
                    .invalid,
                    "account \(entry.id): instruments_per_connection \(n) is above \(broker.rawValue)'s limit of \(broker.instrumentsPerConnection)"
                )
            }
        }
        return entries
    }

    /// The accounts of a file, with defaults for the URLs the entries leave out: a Kite entry takes
    /// `defaultWebSocketURL`/`defaultRestURL` (`BROKER_WS_URL`, `BROKER_URL`), a Dhan entry `dhanWebSocketURL`/
    /// `dhanRestURL` (`DHAN_WS_URL`, `DHAN_URL`: Dhan's production roots unless set).
    static func accounts(
        path: String, defaultWebSocketURL: String, defaultRestURL: String, dhanWebSocketURL: String = Broker.dhan.defaultWebSocketURL,
        dhanRestURL: String = Broker.dhan.defaultRestURL
    ) throws(AccountConfigError) -> [BrokerAccount] {
        let entries = try load(path: path)
        var accounts: [BrokerAccount] = []
        for entry in entries {
            // Fail at startup, not at the first connect, when a token is missing.
            _ = try entry.credentials()
            let broker = entry.brokerKind ?? .kite
            accounts.append(
                BrokerAccount(
                    id: entry.id,
                    broker: broker,
                    webSocketURL: entry.ws_url ?? (broker == .kite ? defaultWebSocketURL : dhanWebSocketURL),
                    restURL: entry.rest_url ?? (broker == .kite ? defaultRestURL : dhanRestURL),
                    maxConnections: entry.max_connections ?? broker.maxConnections,
                    instrumentsPerConnection: entry.instruments_per_connection ?? broker.instrumentsPerConnection,
                    credentialSource: .accountsFile(path: path)
                )
            )
        }
        return accounts
    }
}
