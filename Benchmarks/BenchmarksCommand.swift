import ArgumentParser

/// `make bench`: release-build benchmarks that print their figures. Each subcommand starts what it needs
/// (redis-server, a throwaway PostgreSQL cluster, the simulator) on loopback and removes it afterwards.
@main
struct BenchmarksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Benchmarks",
        abstract: "Speed and memory figures for the platform (run from a release build).",
        subcommands: BenchmarkCatalog.all + [RunAll.self]
    )
}

/// Every benchmark, in the order `all` runs them.
enum BenchmarkCatalog {
    static let all: [any AsyncParsableCommand.Type] = [
        RedisBenchmark.self,
        WireBenchmark.self,
        PostgresBenchmark.self,
        SimulatorBenchmark.self,
        TickerBenchmark.self,
        FeedBrokersBenchmark.self,
        BackfillBenchmark.self,
        BarsBenchmark.self,
        ListEncodingBenchmark.self,
        RepairBenchmark.self,
        TiersBenchmark.self,
        FullLoadBenchmark.self,
    ]
}

/// Runs every benchmark with its defaults, one after another.
struct RunAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Run every benchmark with its defaults.")

    func run() async throws {
        for benchmark in BenchmarkCatalog.all {
            print("\n=== \(benchmark._commandName) ===")
            var command = try benchmark.parse([])
            try await command.run()
        }
    }
}
