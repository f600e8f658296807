import Metrics

/// Every metric of the quote stream, named once (docs/stream.md lists them).
enum StreamMetrics {
    static let clientsConnected = "backend_stream_clients"
    static let messagesSent = "backend_stream_messages_sent_total"
    static let updatesConflated = "backend_stream_updates_conflated_total"
    static let clientsRefused = "backend_stream_clients_refused_total"
    static let ticksRead = "backend_stream_ticks_read_total"

    static func clients(connected: Int) { Gauge(label: clientsConnected).record(connected) }
    static func sent(_ count: Int) { Counter(label: messagesSent).increment(by: count) }
    static func conflated(_ count: Int) { Counter(label: updatesConflated).increment(by: count) }
    static func refused() { Counter(label: clientsRefused).increment() }
    static func read(_ count: Int) { Counter(label: ticksRead).increment(by: count) }
}
