import Foundation
import StewardControl
import StewardHarness

/// `steward-bench startup`: how fast an empty `stewardd` gets ready, how much memory it holds
/// idle, and how long one control call takes from the client's side.
struct StartupBenchmark {
    static let benchmark = Benchmark(
        name: "startup",
        summary: """
            exec to READY=1 on an empty store (min, median, max), idle RSS one second after
            READY, and steward.Service.Status round trips on one connection (p50, p99, max, mean)
            """,
        options: [
            ("--runs N", "daemon starts to time (default 10)"),
            ("--calls N", "Service.Status calls to time, after 100 to warm up (default 10000)"),
        ]
    ) { options in
        let benchmark = StartupBenchmark(
            runs: try options.integer("--runs", default: 10, in: 1...10_000),
            calls: try options.integer("--calls", default: 10_000, in: 1...10_000_000))
        try options.finish()
        print(try benchmark.measure().text)
    }

    var runs: Int
    var calls: Int
    static let warmUpCalls = 100
    static let idleSeconds: TimeInterval = 1

    func measure() throws -> StartupReport {
        let startup = try timeToReady()
        return try FreshDaemon.run { daemon, _ in
            Thread.sleep(forTimeInterval: Self.idleSeconds)
            let idle = try ProcessStatus(pid: daemon.pid)
            let client = try daemon.client()
            let info = try Self.call(client, .getInfo).decode(ServiceInfo.self)
            return StartupReport(version: info.version, startup: startup, idle: idle, roundTrips: try roundTrips(on: client))
        }
    }

    /// Starts `runs` daemons one after the other, each on a fresh sandbox, and times exec to `READY=1`.
    private func timeToReady() throws -> Samples {
        let microseconds = try (0..<runs).map { _ in
            try FreshDaemon.run { daemon, readyAt in readyAt - daemon.launchedAt }
        }
        return Samples(nanoseconds: microseconds.map { $0 * 1_000 })
    }

    /// Times `calls` sequential `steward.Service.Status` calls on one connection, after a warm-up.
    private func roundTrips(on client: ControlClient) throws -> RoundTrips {
        _ = try Self.call(client, .status).decode(ServiceStatus.self)
        for _ in 1..<Self.warmUpCalls { try Self.call(client, .status) }
        let request = Self.request(.status)
        var durations: [UInt64] = []
        durations.reserveCapacity(calls)
        let started = monotonicNanoseconds()
        for _ in 0..<calls {
            let before = monotonicNanoseconds()
            let reply = try client.call(request)
            durations.append(monotonicNanoseconds() - before)
            try Self.check(reply, .status)
        }
        return RoundTrips(samples: Samples(nanoseconds: durations), elapsedNanoseconds: monotonicNanoseconds() - started)
    }

    @discardableResult
    private static func call(_ client: ControlClient, _ method: ControlMethod) throws -> ControlReply {
        let reply = try client.call(request(method))
        try check(reply, method)
        return reply
    }

    private static func request(_ method: ControlMethod) -> ControlRequest {
        ControlRequest(method: method.rawValue, parameters: .object([:]))
    }

    private static func check(_ reply: ControlReply, _ method: ControlMethod) throws {
        guard let error = reply.error else { return }
        throw BenchFailure("\(method.rawValue) failed with \(error): \(reply.errorMessage ?? "no message")")
    }
}

/// Control calls timed one by one, and how long all of them took together.
struct RoundTrips {
    var samples: Samples
    var elapsedNanoseconds: UInt64

    var callsPerSecond: Int {
        Int((Double(samples.sorted.count) / (Double(elapsedNanoseconds) / 1e9)).rounded())
    }
}

/// What `startup` measured, as the block of figures it prints.
struct StartupReport {
    var version: String
    var startup: Samples
    var idle: ProcessStatus
    var roundTrips: RoundTrips

    var text: String {
        let startupLabel = "exec → READY=1 (empty store, \(startup.sorted.count) runs):"
        let idleLabel = "idle RSS after READY:"
        let trips = roundTrips.samples
        let callsLabel = "Service.Status round trip (\(trips.sorted.count) calls):"
        let width = [startupLabel, idleLabel, callsLabel].map(\.count).max()!
        return [
            "steward-bench startup (stewardd \(version), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Self.buildKind))",
            Figure.line(startupLabel, width, [
                "min \(Figure.milliseconds(Double(startup.minimum)))",
                "median \(Figure.milliseconds(startup.median))",
                "max \(Figure.milliseconds(Double(startup.maximum)))",
            ].joined(separator: "  ")),
            Figure.line(idleLabel, width,
                        "\(Figure.mebibytes(idle.residentBytes)) (peak \(Figure.mebibytes(idle.peakResidentBytes)), \(idle.threads) threads)"),
            Figure.line(callsLabel, width, [
                "p50 \(Figure.microseconds(Double(trips.percentile(50))))",
                "p99 \(Figure.microseconds(Double(trips.percentile(99))))",
                "max \(Figure.microseconds(Double(trips.maximum)))",
                "mean \(Figure.microseconds(trips.mean))",
                "(\(Figure.grouped(roundTrips.callsPerSecond)) calls/s)",
            ].joined(separator: "  ")),
        ].joined(separator: "\n")
    }

    /// Whether the daemon measured is a debug or a release build, from the folder SwiftPM put it in.
    static var buildKind: String {
        let folder = Binaries.directory
        if folder.contains("/release") { return "release build" }
        if folder.contains("/debug") { return "debug build" }
        return "binaries from \(folder)"
    }
}
