import Metrics

/// Metric names of the simulator, defined once.
enum SimulatorMetrics {
    static let connectionsAccepted = "broker_sim_ws_connections_accepted_total"
    static let connectionsRejected = "broker_sim_ws_connections_rejected_total"
    static let framesSent = "broker_sim_ws_frames_sent_total"
    static let ticksSent = "broker_sim_ws_ticks_sent_total"
    static let heartbeatsSent = "broker_sim_ws_heartbeats_sent_total"
    static let intervalsSkipped = "broker_sim_ws_intervals_skipped_total"

    /// Counters for one feed kind, created once per server.
    struct Feed: Sendable {
        let accepted: Counter
        let framesSent: Counter
        let ticksSent: Counter
        let heartbeatsSent: Counter
        let intervalsSkipped: Counter

        init(kind: FeedKind) {
            let dimensions = [("feed", kind.rawValue)]
            accepted = Counter(label: SimulatorMetrics.connectionsAccepted, dimensions: dimensions)
            framesSent = Counter(label: SimulatorMetrics.framesSent, dimensions: dimensions)
            ticksSent = Counter(label: SimulatorMetrics.ticksSent, dimensions: dimensions)
            heartbeatsSent = Counter(label: SimulatorMetrics.heartbeatsSent, dimensions: dimensions)
            intervalsSkipped = Counter(label: SimulatorMetrics.intervalsSkipped, dimensions: dimensions)
        }

        func rejected(reason: String) {
            Counter(label: SimulatorMetrics.connectionsRejected, dimensions: [("reason", reason)]).increment()
        }
    }
}

/// Metadata keys of the simulator's log lines, defined once.
enum LogKey {
    static let connectionID = "ws.connection_id"
    static let feed = "ws.feed"
    static let apiKey = "kite.api_key"
    static let tokens = "tokens.count"
    static let mode = "kite.mode"
    static let reason = "reason"
    static let error = "error"
}
