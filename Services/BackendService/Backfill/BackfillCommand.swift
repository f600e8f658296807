import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import ServiceRuntime
import Shared
import SharedInstruments
import SharedPostgres
import SharedRedis

extension BackendServiceCommand {
    /// `BackendService backfill`: fills the missing 1-minute bars of some instruments now, through the same candle
    /// source (TickerService's paced `/history`, or the broker), retries and idempotent upserts as the service, and
    /// shows its progress (docs/backfill.md, "Backfill from the command line").
    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backfill",
            abstract: "Backfill missing 1-minute bars now, with progress.",
            discussion: """
                Exit status: 0 when every instrument was backfilled (or, with --dry-run, the gaps were listed), 3 when \
                any instrument failed, 2 when nothing matched the selection, 1 when the configuration or a dependency \
                is wrong, 64 for bad arguments.
                """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The options of this underlying (e.g. NIFTY), and the underlying itself.")
        var symbol: String?

        @Option(help: "With --symbol: the expiry, yyyy-MM-dd (default: the nearest).")
        var expiry: String?

        @Option(help: "Instrument tokens, comma-separated (instead of --symbol).")
        var tokens: String?

        @Option(help: "Start: ISO-8601 time or yyyy-MM-dd (IST midnight). Default: BACKFILL_GAP_LOOKBACK_HOURS ago.")
        var from: String?

        @Option(help: "End: ISO-8601 time or yyyy-MM-dd. Default: now (the current minute is never fetched).")
        var to: String?

        @Flag(name: .customLong("dry-run"), help: "Print the gaps that would be filled, fetch nothing.")
        var dryRun = false

        func validate() throws {
            guard (symbol == nil) != (tokens == nil) else { throw ValidationError("give exactly one of --symbol and --tokens") }
            if expiry != nil, symbol == nil { throw ValidationError("--expiry needs --symbol") }
            if let expiry, IndianMarket.parseDay(expiry) == nil { throw ValidationError("--expiry must be yyyy-MM-dd, not '\(expiry.prefix(40))'") }
            if let tokens, Self.parseTokens(tokens) == nil {
                throw ValidationError("--tokens must be positive integers separated by commas, not '\(tokens.prefix(40))'")
            }
            for (name, value) in [("--from", from), ("--to", to)] {
                if let value, QueryReader.parseInstant(value) == nil {
                    throw ValidationError("\(name) must be an ISO-8601 time like 2025-11-20T09:15:00+05:30 or a date, not '\(value.prefix(40))'")
                }
            }
        }

        static func parseTokens(_ text: String) -> [Int64]? {
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let tokens = parts.compactMap { Int64($0) }.filter { $0 > 0 }
            return tokens.count == parts.count && !tokens.isEmpty ? tokens : nil
        }

        func run() async throws {
            var failedCount = 0
            try await exitOnStartupFailure(service: BackendConfiguration.serviceName) {
                failedCount = try await backfill()
            }
            if failedCount < 0 { throw ExitCode(2) }
            if failedCount > 0 { throw ExitCode(3) }
        }

        /// - Returns: How many instruments failed; -1 when the selection matched nothing.
        private func backfill() async throws -> Int {
            var flags: [String: String] = [:]
            // Log lines would tear the progress bar: only warnings and worse, unless LOG_LEVEL says otherwise.
            if ProcessInfo.processInfo.environment[ConfigKey.logLevel.name] == nil, common.logLevel == nil { flags[ConfigKey.logLevel.name] = "warning" }
            let config = try BackendConfiguration(source: common.configSource(extraFlags: flags))
            Observability.bootstrap(service: BackendConfiguration.serviceName, logLevel: config.common.logLevel, logFormat: config.common.logFormat)
            let logger = Logger(label: "\(BackendConfiguration.serviceName).backfill-command")
            let postgres = try await StoreConnections.postgres(
                url: config.common.databaseURL, poolSize: max(2, config.backfill.concurrency),
                applicationName: "\(BackendConfiguration.serviceName)-backfill", logger: logger
            )
            // The backfill path never touches Redis; the client is only what the components are built with (it connects lazily).
            let redis = RedisClient(configuration: try RedisConfiguration(url: config.common.redisURL), logger: logger)
            let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
            defer {
                Task { [httpClient] in try? await httpClient.shutdown() }
            }
            do {
                try await StoreConnections.migrate(postgres, logger: logger)
                let failed = try await backfill(config: config, postgres: postgres, redis: redis, httpClient: httpClient, logger: logger)
                await postgres.close()
                await redis.close()
                return failed
            } catch {
                await postgres.close()
                await redis.close()
                throw error
            }
        }

        private func backfill(config: BackendConfiguration, postgres: PostgresClient, redis: RedisClient, httpClient: HTTPClient, logger: Logger) async throws -> Int {
            let selection = try await instruments(postgres: postgres)
            guard !selection.isEmpty else {
                print("backfill: no instrument matches \(symbol.map { "--symbol \($0)" + (expiry.map { " --expiry \($0)" } ?? "") } ?? "--tokens")")
                return -1
            }
            let now = Date()
            let to = self.to.flatMap(QueryReader.parseInstant) ?? now
            let from = self.from.flatMap(QueryReader.parseInstant) ?? to.addingTimeInterval(-config.backfill.gapLookback.backfillSeconds)
            let components = EventBackfillComponents.make(configuration: config.backfill, redis: redis, postgres: postgres, httpClient: httpClient, logger: logger)
            var gaps: [Int64: [BarGap]] = [:]
            for chunk in stride(from: 0, to: selection.count, by: 500).map({ Array(selection[$0..<min($0 + 500, selection.count)]) }) {
                for gap in try await components.store.gaps(tokens: chunk.map(\.token), from: from, to: to, mode: config.backfill.session) {
                    gaps[gap.instrumentToken, default: []].append(gap)
                }
            }
            let work = selection.filter { gaps[$0.token] != nil }
            let minutes = work.reduce(0) { $0 + (gaps[$1.token] ?? []).reduce(0) { $0 + $1.minutes } }
            print("backfill: \(selection.count) instruments from \(Self.utc(from)) to \(Self.utc(to)); \(work.count) have gaps, \(minutes) minutes missing")

            if dryRun {
                for item in work {
                    let runs = gaps[item.token] ?? []
                    let spans = runs.prefix(5).map { "\(Self.utc(Date(timeIntervalSince1970: TimeInterval($0.start))))–\(Self.utc(Date(timeIntervalSince1970: TimeInterval($0.end))))" }
                    print("  \(item.token) \(item.label): \(runs.count) gap(s), \(runs.reduce(0) { $0 + $1.minutes }) minutes: \(spans.joined(separator: ", "))\(runs.count > 5 ? ", …" : "")")
                }
                print("backfill: dry run, nothing fetched")
                return 0
            }

            let display = BackfillProgressDisplay(instruments: work.count, minutes: minutes, interactive: isatty(STDOUT_FILENO) == 1) { text in
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            var failures: [(token: Int64, label: String, error: String)] = []
            await withTaskGroup(of: Void.self) { redraw in
                redraw.addTask {
                    while !Task.isCancelled {
                        display.tick()
                        try? await Task.sleep(for: .milliseconds(250))
                    }
                }
                failures = await withTaskGroup(of: (Int64, String, BackfillOutcome, Int).self) { group in
                    var next = 0
                    var failed: [(token: Int64, label: String, error: String)] = []
                    func start() {
                        guard next < work.count else { return }
                        let item = work[next]
                        next += 1
                        let runs = gaps[item.token] ?? []
                        let request = BackfillRequest(token: item.token, reason: .manual, wantsTail: false, ranges: runs.map { $0.start...$0.end })
                        group.addTask {
                            let (outcome, _) = await components.backfiller.run(request)
                            return (item.token, item.label, outcome, runs.reduce(0) { $0 + $1.minutes })
                        }
                    }
                    for _ in 0..<max(1, config.backfill.concurrency) { start() }
                    while let (token, label, outcome, minutes) = await group.next() {
                        switch outcome {
                        case .success(let bars): display.finished(minutes: minutes, bars: bars, failed: false)
                        case .nothingToDo: display.finished(minutes: minutes, bars: 0, failed: false)
                        case .failed(let message):
                            failed.append((token, label, message))
                            display.finished(minutes: minutes, bars: 0, failed: true)
                        case .cancelled: break
                        }
                        start()
                    }
                    return failed
                }
                redraw.cancelAll()
            }
            display.end()
            let counts = display.current
            print(
                "backfill: done in \(BackfillProgressDisplay.clock(display.elapsed)): \(counts.instrumentsDone - counts.failed) of \(work.count) "
                    + "instruments backfilled, \(counts.barsWritten) bars written, \(counts.failed) failed"
            )
            for failure in failures.prefix(20) {
                print("  failed \(failure.token) \(failure.label): \(failure.error.prefix(300))")
            }
            if failures.count > 20 { print("  … and \(failures.count - 20) more") }
            return failures.count
        }

        /// The selected instruments with a label for the output.
        private func instruments(postgres: PostgresClient) async throws -> [(token: Int64, label: String)] {
            if let tokens, let parsed = Self.parseTokens(tokens) {
                let known = try await PostgresInstrumentCatalog(postgres: postgres).instruments(tokens: parsed)
                return parsed.map { ($0, known[$0]?.tradingsymbol ?? "") }
            }
            guard let symbol else { return [] }
            let chains = OptionChainRepository(postgres: postgres)
            let expiries: [String]
            if let expiry {
                expiries = [expiry]
            } else {
                expiries = try await chains.expiries(symbol: symbol, fromDay: IndianMarket.today(), limit: 1)
            }
            var result: [(token: Int64, label: String)] = []
            if let underlying = try await chains.underlyingToken(symbol: symbol) { result.append((underlying, symbol)) }
            if !expiries.isEmpty {
                result += try await chains.chain(symbol: symbol, expiries: expiries).map { ($0.instrumentToken, $0.tradingsymbol) }
            }
            return result
        }

        static func utc(_ date: Date) -> String {
            date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0)!))
        }
    }
}
