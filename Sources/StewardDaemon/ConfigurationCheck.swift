import Foundation
import StewardCore

/// `stewardd --check-config`: every file the daemon would read, checked without starting it.
public enum ConfigurationCheck {
    /// Every problem in steward.conf and in the files and folders it names.
    public static func problems(configPath: String, overrides: DaemonConfiguration.Overrides) -> [ConfigurationProblem] {
        switch DaemonConfiguration.load(path: configPath, overrides: overrides) {
        case .failure(let failure):
            return failure.problems
        case .success(let configuration):
            return moduleProblems(configuration)
        }
    }

    /// Each module the file names must be present and safely owned; loading waits for the start.
    private static func moduleProblems(_ configuration: DaemonConfiguration) -> [ConfigurationProblem] {
        let file = UnitFile(path: configuration.file, text: (try? DaemonConfiguration.readText(configuration.file)) ?? "")
        let line = file.first("Steward", "Modules")?.line ?? 0
        return configuration.modules.compactMap { name in
            do {
                try ModuleLoader.checkFile(ModuleLoader.file(for: name, in: configuration.moduleDirectory))
                return nil
            } catch {
                return ConfigurationProblem(configuration.file, line, "Modules", "module \(name): \(error)")
            }
        }
    }
}
