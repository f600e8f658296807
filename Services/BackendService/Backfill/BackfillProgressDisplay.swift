import Foundation
import Synchronization

/// What `BackendService backfill` shows while it works: on a terminal a bar redrawn in place (instruments and minutes
/// done, rate, ETA, failures); otherwise one plain line per finished instrument, which a log or a CI job can read.
final class BackfillProgressDisplay: Sendable {
    struct Counts: Sendable {
        var instrumentsDone = 0
        var minutesDone = 0
        var failed = 0
        var barsWritten = 0
    }

    let instruments: Int
    let minutes: Int
    let interactive: Bool
    private let started = ContinuousClock.now
    private let counts = Mutex(Counts())
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - instruments: Instruments to backfill.
    ///   - minutes: Missing minutes among them.
    ///   - interactive: Draw a bar (standard output is a terminal) rather than lines.
    ///   - write: Where the text goes (standard output, flushed).
    init(instruments: Int, minutes: Int, interactive: Bool, write: @escaping @Sendable (String) -> Void) {
        self.instruments = instruments
        self.minutes = minutes
        self.interactive = interactive
        self.write = write
    }

    var current: Counts { counts.withLock { $0 } }

    /// One instrument is done.
    /// - Parameters:
    ///   - minutes: Its missing minutes (done, whether they were filled or not).
    ///   - bars: Bars written.
    ///   - failed: Whether it failed.
    func finished(minutes: Int, bars: Int, failed: Bool) {
        let now = counts.withLock { counts in
            counts.instrumentsDone += 1
            counts.minutesDone += minutes
            counts.barsWritten += bars
            if failed { counts.failed += 1 }
            return counts
        }
        if interactive { draw(now) } else { write("backfill: " + Self.summaryLine(now, instruments: instruments, minutes: minutes, elapsed: elapsed) + "\n") }
    }

    /// Redraws the bar (the elapsed time and ETA move even while no instrument finishes).
    func tick() {
        if interactive { draw(current) }
    }

    /// Ends the bar's line.
    func end() {
        if interactive {
            draw(current)
            write("\n")
        }
    }

    var elapsed: Double {
        let duration = ContinuousClock.now - started
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func draw(_ counts: Counts) {
        let width = 30
        let fraction = instruments == 0 ? 1 : Double(counts.instrumentsDone) / Double(instruments)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        // \r and "erase line": the bar stays on one line of the terminal.
        write("\r\u{1B}[2K[\(bar)] " + Self.summaryLine(counts, instruments: instruments, minutes: minutes, elapsed: elapsed))
    }

    static func summaryLine(_ counts: Counts, instruments: Int, minutes: Int, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(counts.instrumentsDone) / elapsed : 0
        let remaining = instruments - counts.instrumentsDone
        let eta = rate > 0 ? Self.clock(Double(remaining) / rate) : "–"
        return "\(counts.instrumentsDone)/\(instruments) instruments · \(counts.minutesDone)/\(minutes) minutes · "
            + String(format: "%.1f", rate) + " instruments/s · ETA \(eta) · \(counts.failed) failed"
    }

    /// `m:ss` (or `h:mm:ss`).
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, (total % 3600) / 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
