import Foundation
import SharedBasics

/// Where configuration values come from, in order of precedence: command-line flags, then the process
/// environment, then an optional `.env` file, then the defaults of the deployment environment.
///
/// Typed accessors turn text into values and throw a ``ConfigError`` that names the key and says why a
/// value was refused, so a service can stop at startup with one clear line.
public struct ConfigSource: Sendable {
    private let flags: [String: String]
    private let environment: [String: String]
    private let dotEnv: [String: String]

    /// The deployment environment (`ENVIRONMENT`), which selects defaults.
    public let deployment: DeploymentEnvironment

    /// Creates a source.
    /// - Parameters:
    ///   - flags: Values given on the command line, keyed by environment-variable name; they win.
    ///   - environment: The process environment.
    ///   - dotEnvPath: A `.env` file to read if it exists; `nil` for none.
    public init(
        flags: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String? = ".env"
    ) throws(ConfigError) {
        self.flags = flags
        self.environment = environment
        self.dotEnv = try dotEnvPath.map { path throws(ConfigError) in try DotEnvFile.load(path: path) } ?? [:]
        let rawEnvironment = flags[ConfigKey.environment.name] ?? environment[ConfigKey.environment.name]
            ?? dotEnv[ConfigKey.environment.name] ?? DeploymentEnvironment.dev.rawValue
        guard let deployment = DeploymentEnvironment(rawValue: rawEnvironment.lowercased()) else {
            throw ConfigError(
                .invalid, key: ConfigKey.environment.name,
                reason: "'\(rawEnvironment)' is not one of \(DeploymentEnvironment.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.deployment = deployment
    }

    /// The raw text for a key, or `nil` when no layer sets it. Empty strings count as set.
    /// - Parameter key: The key.
    public func raw(_ key: ConfigKey) -> String? {
        flags[key.name] ?? environment[key.name] ?? dotEnv[key.name]
    }

    /// A string value.
    /// - Parameters:
    ///   - key: The key.
    ///   - default: The value when unset.
    public func string(_ key: ConfigKey, default defaultValue: String) -> String {
        raw(key) ?? defaultValue
    }

    /// A string value that must be present and non-empty.
    /// - Parameter key: The key.
    public func requiredString(_ key: ConfigKey) throws(ConfigError) -> String {
        guard let value = raw(key), !value.isEmpty else {
            throw ConfigError(.missing, key: key.name, reason: "is required and not set")
        }
        return value
    }

    /// A boolean: true/false, 1/0, yes/no, on/off (any case).
    /// - Parameters:
    ///   - key: The key.
    ///   - default: The value when unset.
    public func bool(_ key: ConfigKey, default defaultValue: Bool) throws(ConfigError) -> Bool {
        guard let text = raw(key) else { return defaultValue }
        switch text.lowercased().trimmingCharacters(in: .whitespaces) {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError(.invalid, key: key.name, reason: "'\(display(key, text))' is not a boolean (true/false)")
        }
    }

    /// An integer within a range.
    /// - Parameters:
    ///   - key: The key.
    ///   - default: The value when unset.
    ///   - range: The values accepted.
    public func int(_ key: ConfigKey, default defaultValue: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(.invalid, key: key.name, reason: "'\(display(key, text))' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigError(.invalid, key: key.name, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A duration given in seconds (fractions allowed), e.g. `10` or `0.5`.
    /// - Parameters:
    ///   - key: The key.
    ///   - default: The value when unset.
    public func seconds(_ key: ConfigKey, default defaultValue: Duration) throws(ConfigError) -> Duration {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
            throw ConfigError(.invalid, key: key.name, reason: "'\(display(key, text))' is not a non-negative number of seconds")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// A value of a `RawRepresentable` enumeration, e.g. a log format.
    /// - Parameters:
    ///   - key: The key.
    ///   - default: The value when unset.
    public func value<T: RawRepresentable & CaseIterable>(_ key: ConfigKey, default defaultValue: T) throws(ConfigError) -> T
    where T.RawValue == String {
        guard let text = raw(key) else { return defaultValue }
        guard let value = T(rawValue: text.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(.invalid, key: key.name, reason: "'\(display(key, text))' is not one of \(allowed)")
        }
        return value
    }

    private func display(_ key: ConfigKey, _ text: String) -> String {
        Redaction.redact(text, for: key)
    }
}
