#if canImport(Glibc)
import Glibc
#endif
import StewardCore
import StewardDaemon

let options: CommandLineOptions
do {
    options = try CommandLineOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
    Log.error("stewardd: \(error)")
    exit(ExitCode.configuration.rawValue)
}

if options.showHelp {
    print(CommandLineOptions.usage)
    exit(0)
}
if options.showVersion {
    print("stewardd \(StewardVersion.current)")
    exit(0)
}
if options.checkOnly {
    let problems = ConfigurationCheck.problems(configPath: options.configPath, overrides: options.overrides)
    for problem in problems { print(problem) }
    if problems.isEmpty { print("\(options.configPath): ok") }
    exit(problems.isEmpty ? ExitCode.ok.rawValue : ExitCode.configuration.rawValue)
}
Daemon.run(configPath: options.configPath, overrides: options.overrides)
