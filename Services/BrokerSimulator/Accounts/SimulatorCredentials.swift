/// The API keys and access tokens the simulator accepts (Kite: `api_key` + `access_token`).
struct SimulatorCredentials: Sendable {
    /// apiKey -> accessToken.
    let pairs: [String: String]

    init(pairs: [String: String]) {
        self.pairs = pairs
    }

    /// Three accounts, so multi-account code paths run locally.
    static let `default` = SimulatorCredentials(pairs: [
        "sim_api_key": "sim_access_token",
        "sim_api_key_2": "sim_access_token_2",
        "sim_api_key_3": "sim_access_token_3",
    ])

    /// Parses `key:token,key2:token2`.
    static func parse(_ spec: String) throws(CredentialsSpecError) -> SimulatorCredentials {
        var pairs: [String: String] = [:]
        for item in spec.split(separator: ",") {
            let entry = item.trimmingSpaces
            guard !entry.isEmpty else { continue }
            guard let colon = entry.firstIndex(of: ":") else {
                throw CredentialsSpecError(.malformed, "credential '\(entry.prefix(40))' is not api_key:access_token")
            }
            let key = String(entry[..<colon]), token = String(entry[entry.index(after: colon)...])
            guard !key.isEmpty, !token.isEmpty else {
                throw CredentialsSpecError(.malformed, "credential with an empty api_key or access_token")
            }
            guard pairs[key] == nil else { throw CredentialsSpecError(.duplicate, "api_key '\(key)' appears twice") }
            pairs[key] = token
        }
        guard !pairs.isEmpty else { throw CredentialsSpecError(.empty, "no credentials in the specification") }
        return SimulatorCredentials(pairs: pairs)
    }

    func isValid(apiKey: String, accessToken: String) -> Bool {
        guard let expected = pairs[apiKey] else { return false }
        return expected == accessToken
    }

    /// Checks Kite's `Authorization: token api_key:access_token` header.
    /// - Returns: The API key when the header names a valid pair, else nil.
    func isValid(authorizationHeader: String?) -> String? {
        guard let header = authorizationHeader?.trimmingSpaces else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "token" else { return nil }
        let credential = parts[1].trimmingSpaces
        guard let colon = credential.firstIndex(of: ":") else { return nil }
        let apiKey = String(credential[..<colon])
        let accessToken = String(credential[credential.index(after: colon)...])
        return isValid(apiKey: apiKey, accessToken: accessToken) ? apiKey : nil
    }
}

/// A `--credentials` specification that does not parse.
struct CredentialsSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    struct Code: Sendable, Hashable {
        let name: String
        init(_ name: String) { self.name = name }
        static let malformed = Code("malformed")
        static let duplicate = Code("duplicate")
        static let empty = Code("empty")
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: Substring {
        let s = self[...]
        guard let first = s.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = s.lastIndex(where: { !$0.isWhitespace })!
        return Substring(s[first...last])
    }
}
