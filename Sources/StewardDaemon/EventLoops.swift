#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Network I/O runs on one serial event-loop queue per core, driven by Dispatch sources on
/// non-blocking sockets. Each connection's own serial queue targets one of these loops, so
/// nothing blocks the global pools (where libdispatch on Linux adds threads only once a second).
public final class EventLoops: Sendable {
    private let queues: [DispatchQueue]
    private let counter = Mutex(0)

    public init(count: Int = System.coreCount) {
        queues = (0..<max(1, count)).map { DispatchQueue(label: "steward.loop.\($0)") }
    }

    /// The loop for the next connection, round robin.
    public func next() -> DispatchQueue {
        let index = counter.withLock { value -> Int in
            defer { value &+= 1 }
            return value % queues.count
        }
        return queues[index]
    }
}

/// Facts about the machine the daemon runs on.
public enum System {
    /// The number of cores this process may run on.
    public static var coreCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}
