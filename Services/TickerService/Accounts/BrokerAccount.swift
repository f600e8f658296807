import Foundation

/// One broker account: where its WebSocket and REST APIs are, how much it may stream, and where its secrets come from.
///
/// The API key and access token are not stored here but read from ``credentialSource`` whenever a connection is
/// (re)opened or a historical request is signed, so a daily token change needs no restart.
struct BrokerAccount: Sendable, Hashable {
    /// Kite's limits: 3 WebSocket connections per API key, 3,000 instruments per connection.
    static let kiteMaxConnections = 3
    static let kiteInstrumentsPerConnection = 3000

    /// The name logs, metrics and `/health` use (never the API key).
    var id: String
    /// The broker, e.g. `kite` (the only one streamed today).
    var broker: String = "kite"
    /// The ticker WebSocket root, e.g. `wss://ws.kite.trade` or `ws://127.0.0.1:8090`.
    var webSocketURL: String
    /// The REST root, e.g. `https://api.kite.trade` or `http://127.0.0.1:8090`.
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

/// An API key and access token. Its description never shows either.
struct BrokerCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
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
///  {"id":"second","api_key":"...","access_token_file":"/run/secrets/kite_second_token"}]
/// ```
enum AccountsFile {
    struct Entry: Sendable, Decodable {
        var id: String
        var api_key: String
        var access_token: String?
        var access_token_file: String?
        var broker: String?
        var ws_url: String?
        var rest_url: String?
        var max_connections: Int?
        var instruments_per_connection: Int?

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
            guard !entry.id.isEmpty, !entry.api_key.isEmpty else {
                throw AccountConfigError(.invalid, "accounts file \(origin): every account needs a non-empty id and api_key")
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
        }
        return entries
    }

    /// The accounts of a file, with defaults for the URLs the entries leave out.
    static func accounts(path: String, defaultWebSocketURL: String, defaultRestURL: String) throws(AccountConfigError) -> [BrokerAccount] {
        let entries = try load(path: path)
        var accounts: [BrokerAccount] = []
        for entry in entries {
            // Fail at startup, not at the first connect, when a token is missing.
            _ = try entry.credentials()
            accounts.append(
                BrokerAccount(
                    id: entry.id,
                    broker: entry.broker ?? "kite",
                    webSocketURL: entry.ws_url ?? defaultWebSocketURL,
                    restURL: entry.rest_url ?? defaultRestURL,
                    maxConnections: entry.max_connections ?? BrokerAccount.kiteMaxConnections,
                    instrumentsPerConnection: entry.instruments_per_connection ?? BrokerAccount.kiteInstrumentsPerConnection,
                    credentialSource: .accountsFile(path: path)
                )
            )
        }
        return accounts
    }
}
