import Foundation
import Logging
import SharedJSON

/// A `LogHandler` that writes one JSON object per line to standard error:
/// `{"ts":"…","level":"info","logger":"ticker","msg":"…", …metadata}`.
public struct JSONLogHandler: LogHandler {
    /// The logger's label, written as `logger`.
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let service: String

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger label.
    ///   - service: The service name written with every line.
    ///   - level: The minimum level written.
    public init(label: String, service: String, level: Logger.Level) {
        self.label = label
        self.service = service
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let now = ISO8601DateFormatter.string(
            from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds]
        )
        var object: [String: JSONValue] = [
            "ts": .string(now),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "service": .string(service),
            "msg": .string(event.message.description),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged { object[key] = Self.json(value) }
        guard var line = try? Self.encoder.encode(object) else { return }
        line.append(0x0A)
        FileHandle.standardError.write(line)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}
