import StewardCore

/// `stewardd`'s command line.
public struct CommandLineOptions: Sendable, Equatable {
    public var configPath = "/etc/steward/steward.conf"
    public var overrides = DaemonConfiguration.Overrides()
    public var checkOnly = false
    public var showVersion = false
    public var showHelp = false

    public static let usage = """
        Usage: stewardd [--config FILE] [--state-dir DIR] [--socket PATH]
               stewardd --check-config [--config FILE]

        Runs Steward in the foreground (systemd runs it as Type=notify).
          --config FILE     steward.conf to read (default /etc/steward/steward.conf)
          --state-dir DIR   use DIR instead of StateDirectory= from the file
          --socket PATH     bind the control socket at PATH instead of Socket=
          --check-config    check every configuration file, print file:line: key: problem
                            for each problem, and exit 0 (valid) or 78 (not)
          --version         print the version
        """

    /// Parses `arguments` (without the program name); a wrong word is a ``StewardError``.
    public init(_ arguments: [String]) throws(StewardError) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            func value() throws(StewardError) -> String {
                guard let next = iterator.next(), !next.hasPrefix("--") else {
                    throw StewardError(.configurationInvalid, "\(argument) needs a value")
                }
                return next
            }
            switch argument {
            case "--config": configPath = try value()
            case "--state-dir": overrides.stateDirectory = try value()
            case "--socket": overrides.socketPath = try value()
            case "--check-config": checkOnly = true
            case "--version": showVersion = true
            case "--help", "-h": showHelp = true
            default: throw StewardError(.configurationInvalid, "unknown argument '\(argument)'; see stewardd --help")
            }
        }
    }

    public init() {}
}
