import Foundation
import Testing
import TestSupport

/// `BackendService backfill` as an operator runs it, against a platform's simulator and TickerService: under a
/// pseudo-terminal (`script`) it draws a bar; piped, it prints lines; `--dry-run` fetches nothing; exit codes say what
/// happened.
@Suite("BackendService backfill command")
struct BackfillCommandTests {
    private static func bars(_ platform: Platform, _ token: Int64) async throws -> Int {
        try await platform.postgres.query("SELECT count(*) AS n FROM bars_1m WHERE instrument_token = $1", [token]).first?.decode(Int.self, "n") ?? 0
    }

    private static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    @Test("on a terminal it draws a progress bar and ends with a summary; the bars are stored")
    func progressBarOnATerminal() async throws {
        let script = try Command.required("script", package: "bsdutils")
        try await Platform.with([.simulator, .ticker]) { platform in
            let tokens = try await platform.niftyOptions(2).map { Int64($0.instrumentToken) }
            let from = Date().addingTimeInterval(-15 * 60).formatted(.iso8601)
            let command = ([try BuiltProducts.executable("BackendService"), "backfill", "--tokens", tokens.map(String.init).joined(separator: ","),
                            "--from", from, "--env-file", "/nonexistent/.env"]).map(Self.shellQuoted).joined(separator: " ")
            // `script` gives the command a pseudo-terminal and returns its exit status (-e).
            let outcome = try Command.run(script, ["-q", "-e", "-f", "-c", command, "/dev/null"], environment: platform.environment(for: .backend))
            #expect(outcome.status == 0, "\(outcome.output)")
            #expect(outcome.output.contains("\r\u{1B}[2K["), "the bar is redrawn in place: \(outcome.output.debugDescription)")
            #expect(outcome.output.contains("█"))
            #expect(outcome.output.contains("2/2 instruments"))
            #expect(outcome.output.contains("ETA"))
            #expect(outcome.output.contains("2 of 2 instruments backfilled"), "\(outcome.output)")
            for token in tokens {
                #expect(try await Self.bars(platform, token) >= 14, "token \(token)")
            }
        }
    }

    @Test("--dry-run lists the gaps and stores nothing; piped output is plain lines; a failed instrument exits 3")
    func dryRunLinesAndFailures() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            let token = Int64(try #require(try await platform.niftyOptions(1).first).instrumentToken)
            let backend = try BuiltProducts.executable("BackendService")
            let environment = platform.environment(for: .backend)
            let from = Date().addingTimeInterval(-10 * 60).formatted(.iso8601)

            let dry = try Command.run(backend, ["backfill", "--symbol", "NIFTY", "--from", from, "--dry-run", "--env-file", "/nonexistent/.env"],
                                      environment: environment)
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.output.contains("have gaps"), "\(dry.output)")
            #expect(dry.output.contains("  \(token) "), "the chain's options are listed with their gaps: \(dry.output)")
            #expect(dry.output.contains("dry run, nothing fetched"))
            #expect(try await Self.bars(platform, token) == 0)

            // One real instrument and one the broker does not know.
            let run = try Command.run(backend, ["backfill", "--tokens", "\(token),999999999", "--from", from, "--env-file", "/nonexistent/.env"],
                                      environment: environment)
            #expect(run.status == 3, "\(run.output)")
            #expect(!run.output.contains("\r"), "no bar when the output is not a terminal")
            #expect(run.output.contains("backfill: 1/2 instruments") && run.output.contains("backfill: 2/2 instruments"), "\(run.output)")
            #expect(run.output.contains("1 of 2 instruments backfilled"), "\(run.output)")
            #expect(run.output.contains("failed 999999999"), "\(run.output)")
            #expect(try await Self.bars(platform, token) >= 9)

            let usage = try Command.run(backend, ["backfill", "--symbol", "NIFTY", "--tokens", "1"], environment: environment)
            #expect(usage.status == 64, "\(usage.output)")
            #expect(usage.output.contains("exactly one of --symbol and --tokens"))
            let nothing = try Command.run(backend, ["backfill", "--symbol", "NOSUCHUNDERLYING", "--env-file", "/nonexistent/.env"], environment: environment)
            #expect(nothing.status == 2, "\(nothing.output)")
        }
    }
}
