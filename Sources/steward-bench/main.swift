#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// steward-bench: measures the real `stewardd` as an operator would meet it, one benchmark per
/// subcommand.
let benchmarks: [Benchmark] = [StartupBenchmark.benchmark, IngestBenchmark.benchmark, TLSBenchmark.benchmark, ViewsBenchmark.benchmark, PullBenchmark.benchmark]
let signalSources = Leftovers.cleanUpOnSignals()
exit(BenchCommandLine(benchmarks: benchmarks).run(Array(CommandLine.arguments.dropFirst())))
