#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// steward-dev: the developer's and packager's tool.
///   steward-dev install [--destdir DIR]   put everything at its standard path under DIR
///   steward-dev demo [--dir DIR]          run a demo daemon in a scratch folder
let usage = """
    Usage: steward-dev install [--destdir DIR]
           steward-dev demo [--dir DIR]

    install  copies the binaries beside this tool (build them first, e.g. swift build -c release),
             the connector modules, the systemd units, sysusers and tmpfiles files and the default
             configuration to their standard paths under DIR (default /):
               usr/bin/stewardd, usr/bin/stewardctl
               usr/lib/steward/libConnectorKit.so, usr/lib/steward/modules/*.so
               usr/lib/systemd/system/stewardd.{service,socket}
               usr/lib/sysusers.d/steward.conf, usr/lib/tmpfiles.d/steward.conf
               etc/steward/steward.conf (kept if present), etc/steward/partners.d/
    demo     writes a configuration for a demo district in DIR (default: a new folder under
             /tmp), gives your own group every role, and runs stewardd in the foreground on it.
             Ctrl-C stops it. In another terminal: STEWARD_SOCKET=DIR/control.sock stewardctl status
    """

/// Where the built binaries are: beside this tool.
let buildDirectory: String = {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (executable as NSString).deletingLastPathComponent
}()

/// The source checkout this tool was built from, for the units and the default configuration.
let sourceDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Connector modules: the library SwiftPM builds, and the name steward.conf's Modules= uses.
let connectorModules = [("libProbeConnector.so", "probe"), ("libOneRosterConnector.so", "oneroster"), ("libCleverConnector.so", "clever")]

struct Failure: Error, CustomStringConvertible {
    var description: String
}

func copy(_ source: String, to destination: String, mode: mode_t) throws {
    let manager = FileManager.default
    guard manager.fileExists(atPath: source) else {
        throw Failure(description: "\(source) is missing; build first (swift build -c release) and run this tool from the same build folder")
    }
    try manager.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    // Replace by rename, so a running daemon keeps the file it has mapped.
    let temporary = destination + ".steward-new"
    try? manager.removeItem(atPath: temporary)
    try manager.copyItem(atPath: source, toPath: temporary)
    chmod(temporary, mode)
    guard rename(temporary, destination) == 0 else {
        throw Failure(description: "cannot install \(destination): \(String(cString: strerror(errno)))")
    }
    print("installed \(destination)")
}

func install(destdir: String) throws {
    let root = destdir.hasSuffix("/") ? String(destdir.dropLast()) : destdir
    for binary in ["stewardd", "stewardctl"] {
        try copy(buildDirectory + "/" + binary, to: root + "/usr/bin/" + binary, mode: 0o755)
    }
    try copy(buildDirectory + "/libConnectorKit.so", to: root + "/usr/lib/steward/libConnectorKit.so", mode: 0o644)
    for (library, name) in connectorModules {
        try copy(buildDirectory + "/" + library, to: root + "/usr/lib/steward/modules/\(name).so", mode: 0o644)
    }
    for unit in ["stewardd.service", "stewardd.socket"] {
        try copy(sourceDirectory + "/systemd/" + unit, to: root + "/usr/lib/systemd/system/" + unit, mode: 0o644)
    }
    try copy(sourceDirectory + "/systemd/steward.sysusers", to: root + "/usr/lib/sysusers.d/steward.conf", mode: 0o644)
    try copy(sourceDirectory + "/systemd/steward.tmpfiles", to: root + "/usr/lib/tmpfiles.d/steward.conf", mode: 0o644)
    let configuration = root + "/etc/steward/steward.conf"
    if FileManager.default.fileExists(atPath: configuration) {
        print("kept     \(configuration) (the shipped default is \(sourceDirectory)/etc/steward/steward.conf)")
    } else {
        try copy(sourceDirectory + "/etc/steward/steward.conf", to: configuration, mode: 0o644)
    }
    try FileManager.default.createDirectory(atPath: root + "/etc/steward/partners.d", withIntermediateDirectories: true)
    print("""

        Next (on the target system): systemd-sysusers; systemd-tmpfiles --create;
        systemctl daemon-reload; systemctl enable --now stewardd.socket stewardd.service
        The binaries load the Swift runtime from the path they were linked with
        (/opt/swift/usr/lib/swift/linux for this toolchain); install that runtime on the target too.
        """)
}

func demo(directory: String?) throws -> Never {
    let folder: String
    if let directory {
        folder = URL(fileURLWithPath: directory).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } else {
        var template = Array("/tmp/steward-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "cannot make a scratch folder in /tmp") }
        folder = String(cString: made)
    }
    chmod(folder, 0o755)
    for sub in ["partners.d", "modules"] {
        try FileManager.default.createDirectory(atPath: folder + "/" + sub, withIntermediateDirectories: true)
    }
    chmod(folder + "/modules", 0o755)
    for (library, name) in connectorModules {
        try copy(buildDirectory + "/" + library, to: folder + "/modules/\(name).so", mode: 0o644)
    }
    // The example partners: two district applications (OneRoster and Clever) and a Library application.
    let examples = sourceDirectory + "/etc/steward/partners.d"
    for name in (try? FileManager.default.contentsOfDirectory(atPath: examples))?.filter({ $0.hasSuffix(".conf") }) ?? [] {
        try copy(examples + "/" + name, to: folder + "/partners.d/" + name, mode: 0o644)
    }
    let group = getgid()
    let text = """
        # Demo configuration written by steward-dev demo. Every path is relative to this folder.
        [Steward]
        District=Demo Unified School District
        StateDirectory=state
        PartnerDirectory=partners.d
        ModuleDirectory=modules
        Modules=\(connectorModules.map(\.1).joined(separator: " "))
        InboxDirectory=state/inbox

        [Control]
        Socket=control.sock

        [Roles]
        # Your own group holds every role in the demo.
        admin=\(group)

        """ + (try demoCertificate(in: folder) ? """

        [API]
        # The partner listener, with a self-signed certificate for 127.0.0.1 made for the demo;
        # port 0 lets the system choose (stewardctl status shows it).
        Listen=127.0.0.1:0
        Certificate=tls/api.pem
        PrivateKey=tls/api.key

        """ : "")
    try text.write(toFile: folder + "/steward.conf", atomically: true, encoding: .utf8)
    try placeSampleDistrict(in: folder)
    print("""
        Demo district in \(folder)
        A synthetic district of 2,000 students waits in the inbox; the daemon imports it within seconds.
        In another terminal:
          export STEWARD_SOCKET=\(folder)/control.sock
          \(buildDirectory)/stewardctl status
          \(buildDirectory)/stewardctl roster summary
          \(buildDirectory)/stewardctl imports
          \(buildDirectory)/stewardctl partners
          \(buildDirectory)/stewardctl partners preview mathfacts --limit 3
          \(buildDirectory)/stewardctl partners credentials homework --rotate   (then POST /oauth/token, GET /v3.0/users)
          \(buildDirectory)/stewardctl library adopt readingroom --teacher tch-000001 --section cls-0001-0001
          \(buildDirectory)/steward-gen --students 2000 --defects ambiguous-date,vendor-column --out \(folder)/messy
          \(buildDirectory)/stewardctl import \(folder)/messy --dry-run
          \(buildDirectory)/stewardctl audit
          curl --cacert \(folder)/tls/api.pem https://127.0.0.1:PORT/   (PORT from stewardctl status)
        Ctrl-C stops the daemon; its state stays in \(folder)/state.

        """)
    fflush(nil)  // Everything printed so far, before exec replaces this process.
    let arguments = [buildDirectory + "/stewardd", "--config", folder + "/steward.conf"]
    let argv = arguments.map { strdup($0) } + [nil]
    execv(arguments[0], argv)
    throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(errno)))")
}

/// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI; false
/// (and the demo runs without a partner listener) when openssl is not installed.
func demoCertificate(in folder: String) throws -> Bool {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return false }
    try FileManager.default.createDirectory(atPath: folder + "/tls", withIntermediateDirectories: true)
    let openssl = Process()
    openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                         "-subj", "/CN=Steward demo", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                         "-keyout", folder + "/tls/api.key", "-out", folder + "/tls/api.pem"]
    openssl.standardError = FileHandle.nullDevice
    try openssl.run()
    openssl.waitUntilExit()
    return openssl.terminationStatus == 0
}

/// Writes a synthetic district with steward-gen and renames it into the inbox, as an SIS export
/// job would.
func placeSampleDistrict(in folder: String) throws {
    let inbox = folder + "/state/inbox"
    try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
    chmod(folder + "/state", 0o700)
    let staging = folder + "/sample-district"
    try? FileManager.default.removeItem(atPath: staging)
    let generator = Process()
    generator.executableURL = URL(fileURLWithPath: buildDirectory + "/steward-gen")
    generator.arguments = ["--students", "2000", "--seed", "7", "--out", staging]
    generator.standardOutput = FileHandle.nullDevice
    try generator.run()
    generator.waitUntilExit()
    guard generator.terminationStatus == 0 else { throw Failure(description: "steward-gen failed; build first (swift build)") }
    guard rename(staging, inbox + "/sample-district") == 0 else {
        throw Failure(description: "cannot move the sample district into \(inbox): \(String(cString: strerror(errno)))")
    }
}

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "install": try install(destdir: option("--destdir", in: arguments) ?? "/")
    case "demo": try demo(directory: option("--dir", in: arguments))
    default:
        print(usage)
        exit(arguments.isEmpty || arguments.first == "--help" ? 0 : 64)
    }
} catch {
    FileHandle.standardError.write(Data("steward-dev: \(error)\n".utf8))
    exit(1)
}
