#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCore

/// stewardctl: the operator's client on stewardd's control socket.
do {
    let invocation = try Invocation(arguments: Array(CommandLine.arguments.dropFirst()),
                                    environment: ProcessInfo.processInfo.environment)
    exit(try invocation.run().rawValue)
} catch let failure as CommandFailure {
    FileHandle.standardError.write(Data("stewardctl: \(failure.message)\n".utf8))
    exit(failure.exitCode.rawValue)
} catch {
    FileHandle.standardError.write(Data("stewardctl: \(error)\n".utf8))
    exit(ExitCode.software.rawValue)
}
