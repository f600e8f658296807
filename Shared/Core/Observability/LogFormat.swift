/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One readable line per message.
    case human
    /// One JSON object per line, for log shippers.
    case json
}
