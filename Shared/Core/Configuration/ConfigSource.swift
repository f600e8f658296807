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
    /// Every key read through this source (copies share it), with the value it took; `print-config` prints it.
    private let log = ConfigReadLog()

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
        log.record(.environment, value: deployment.rawValue)
    }

    /// The raw text for a key, or `nil` when no layer sets it. Empty strings count as set.
    /// - Parameter key: The key.
    public func raw(_ key: ConfigKey) -> String? {
        let value = lookup(key)
        log.record(key, value: value)
        return value
    }

    /// A string value.
    /// - Parameters:
    ///   - key: The key.
    ///   - default: The value when unset.
    public func string(_ key: ConfigKey, default defaultValue: String) -> String {
        let value = lookup(key) ?? defaultValue
        log.record(key, value: value)
        return value
    }

    /// The keys read through this source so far, in the order first read.
    public var keysRead: [ConfigKey] { log.keys }

    /// The value a key took when it was last read (its default when unset), or `nil` when it was never read.
    /// Secrets are not masked here: pass the result through ``Redaction/redact(_:for:)`` before printing it.
    /// - Parameter key: The key.
    public func effectiveValue(of key: ConfigKey) -> String? {
        log.value(of: key)
    }

    /// The `KEY=value` lines `print-config` prints and the startup log carries: every declared key in order with its
    /// effective value (the default when unset, the raw text when this configuration did not need it), secrets masked,
    /// then any key that was read without being declared (a test fails on such keys).
    /// - Parameter declared: The keys the service declares it reads.
    public func printableValues(declared: [ConfigKey]) -> [(key: String, value: String)] {
        var seen = Set<String>()
        var lines: [(key: String, value: String)] = []
        for key in declared + keysRead where seen.insert(key.name).inserted {
            let value = log.value(of: key) ?? lookup(key) ?? ""
            lines.append((key.name, Redaction.redact(value, for: key)))
        }
        return lines
    }

    private func lookup(_ key: ConfigKey) -> String? {
        flags[key.name] ?? environment[key.name] ?? dotEnv[key.name]
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
        guard let text = raw(key) else {
            log.record(key, value: String(defaultValue))
            return defaultValue
        }
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
        guard let text = raw(key) else {
            log.record(key, value: String(defaultValue))
            return defaultValue
        }
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
        guard let text = raw(key) else {
            log.record(key, value: Self.secondsText(defaultValue))
            return defaultValue
        }
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
        guard let text = raw(key) else {
            log.record(key, value: defaultValue.rawValue)
            return defaultValue
        }
        guard let value = T(rawValue: text.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(.invalid, key: key.name, reason: "'\(display(key, text))' is not one of \(allowed)")
        }
        return value
    }

    /// A duration as this source reads it: seconds, with a fraction only when needed (`10`, `0.5`).
    /// - Parameter duration: The duration.
    public static func secondsText(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return String(milliseconds / 1000) }
        var text = String(format: "%.3f", Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    private func display(_ key: ConfigKey, _ text: String) -> String {
        Redaction.redact(text, for: key)
    }
}

/// The keys a ``ConfigSource`` was asked for, with the text each took; shared by the copies of a source.
private final class ConfigReadLog: @unchecked Sendable {
    // Guarded by `lock`; configuration is read once at startup, so contention is nil.
    private let lock = NSLock()
    private var order: [ConfigKey] = []
    private var values: [String: String] = [:]
    private var known: Set<String> = []

    func record(_ key: ConfigKey, value: String?) {
        lock.lock()
        defer { lock.unlock() }
        if known.insert(key.name).inserted { order.append(key) }
        if let value { values[key.name] = value }
    }

    var keys: [ConfigKey] {
        lock.lock()
        defer { lock.unlock() }
        return order
    }

    func value(of key: ConfigKey) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return values[key.name]
    }
}
