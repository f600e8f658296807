import Logging
import Synchronization

/// Sets up swift-log once per process, in the chosen format.
public enum LoggingBootstrap {
    private static let done = Mutex(false)

    /// Bootstraps the logging system; later calls (for example from tests) do nothing.
    /// - Parameters:
    ///   - service: Service name written with every JSON line.
    ///   - level: Minimum level.
    ///   - format: Human lines or JSON lines.
    public static func bootstrap(service: String, level: Logger.Level, format: LogFormat) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch format {
        case .human:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, service: service, level: level) }
        }
    }
}
